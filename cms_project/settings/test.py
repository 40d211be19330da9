"""Settings for the test suite: the local defaults with fast hashing and in-memory email."""

from .local import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-any-real-deployment-0123456789"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Argon2 is deliberately slow; tests hash hundreds of passwords. Production keeps Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the source folders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# SMS are recorded in the outbox whatever a developer's .env says; Twilio tests opt in.
SMS_BACKEND = "cms_project.messaging.sms.outbox.OutboxSmsBackend"
TWILIO_ACCOUNT_SID = TWILIO_AUTH_TOKEN = TWILIO_FROM_NUMBER = ""
# The sandbox payment provider whatever a developer's .env says; Stripe tests opt in.
PAYMENT_PROVIDER = "sandbox"
STRIPE_SECRET_KEY = STRIPE_WEBHOOK_SECRET = ""
