"""Two-factor authentication: authenticator apps (TOTP), SMS codes and backup codes.

Built on django-otp devices: `TOTPDevice` (otp_totp), `StaticDevice` (otp_static, the backup
codes) and our `SMSDevice`. A device is "confirmed" once the user has typed a code from it; only
confirmed devices count. A user "has 2FA" with a confirmed authenticator app or SMS device;
backup codes are a fallback that exists only alongside one of them.

The log-in itself is two steps (staff.login_views): the password, then — for users with 2FA — a
code. Between the two, the session holds a *pending* log-in, not a logged-in user.
"""

import base64
import io
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from .audit import record
from .models import Role, SecurityPolicy, SMSDevice, User, end_sessions_of

logger = logging.getLogger(__name__)

BACKUP_CODE_COUNT = 10
PENDING_KEY = "_2fa_pending"
PENDING_MAX_AGE = timedelta(minutes=5)  # time to type the code after the password
PENDING_MAX_FAILURES = 5  # wrong codes before the password must be typed again


class CodeRefused(Exception):
    """A code that does not verify (wrong, expired, used, or tried too fast)."""


class SMSNotSent(Exception):
    """A text that may not be sent now (rate limit)."""


class TwoFactorRequired(Exception):
    """Turning 2FA off is refused: the company requires it for this account."""


# --- What a user has ----------------------------------------------------------------------
def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=confirmed).first()


def sms_device(user: User, *, confirmed: bool = True) -> SMSDevice | None:
    return SMSDevice.objects.devices_for_user(user, confirmed=confirmed).first()


def has_second_factor(user: User) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or SMSDevice.objects.filter(user=user, confirmed=True).exists()
    )


@dataclass
class TwoFactorStatus:
    totp: TOTPDevice | None
    sms: SMSDevice | None
    backup_codes_left: int

    @property
    def enabled(self) -> bool:
        return bool(self.totp or self.sms)


def status_of(user: User) -> TwoFactorStatus:
    return TwoFactorStatus(
        totp=totp_device(user),
        sms=sms_device(user),
        backup_codes_left=StaticToken.objects.filter(
            device__user=user, device__confirmed=True
        ).count(),
    )


def required_for(user: User) -> bool:
    """The company requires a second factor for this account (staff and admins, by policy)."""
    return user.role in (Role.ADMIN, Role.STAFF) and policy_requires_2fa_for_staff()


def policy_requires_2fa_for_staff() -> bool:
    from django.core.cache import cache

    # Read on every workspace request by the middleware: cached briefly, cleared on change.
    value = cache.get("security_policy:require_2fa")
    if value is None:
        value = SecurityPolicy.current().require_2fa_for_staff
        cache.set("security_policy:require_2fa", value, 60)
    return value


@transaction.atomic
def set_policy(*, require_2fa_for_staff: bool, by: User, request: HttpRequest | None) -> None:
    from django.core.cache import cache

    policy, _ = SecurityPolicy.objects.select_for_update().get_or_create(pk=1)
    if policy.require_2fa_for_staff != require_2fa_for_staff:
        record(
            actor=by,
            action="security.policy_change",
            obj=policy,
            changes={
                "require_2fa_for_staff": [policy.require_2fa_for_staff, require_2fa_for_staff]
            },
            request=request,
        )
    policy.require_2fa_for_staff = require_2fa_for_staff
    policy.updated_by = by
    policy.save()
    # Now, and again after commit in case another request cached the old value meanwhile.
    cache.delete("security_policy:require_2fa")
    transaction.on_commit(lambda: cache.delete("security_policy:require_2fa"))


def normalise_code(code: str) -> str:
    """Codes may be typed with spaces or dashes ("123 456", "abcd-efgh")."""
    return re.sub(r"[\s-]", "", str(code)).lower()


def _refuse_if_throttled(device: Device) -> None:
    allowed, info = device.verify_is_allowed()
    if not allowed:
        raise CodeRefused(
            "Too many wrong codes in a row. Wait a few seconds, then type the newest code."
        )


def _locked(device: Device) -> Device:
    # Verifying changes the device (last code used, throttle): lock it so two requests with the
    # same code cannot both succeed.
    return type(device).objects.select_for_update().get(pk=device.pk)


# --- Authenticator app (TOTP) --------------------------------------------------------------
TOTP_SETUP_KEY = "_totp_setup_key"


def totp_setup_device(request: HttpRequest) -> TOTPDevice:
    """The authenticator app being set up, not saved: its secret waits in the session until a
    code proves the app has it, so opening the set-up page changes nothing, and a reload keeps
    the QR code the user may already have scanned."""
    key = request.session.get(TOTP_SETUP_KEY)
    if not (isinstance(key, str) and re.fullmatch(r"[0-9a-f]{40}", key)):
        key = random_hex(20)
        request.session[TOTP_SETUP_KEY] = key
    return TOTPDevice(user=request.user, key=key, name="Authenticator app", confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// QR code as an inline SVG data URI: drawn here, nothing fetched."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage, border=2
    )
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


@transaction.atomic
def confirm_totp(*, request: HttpRequest, code: str) -> list[str] | None:
    """Turn the authenticator app of the set-up page on once a code from it verifies (one
    30-second step either side). Returns the backup codes when this created them (the first
    factor), to show once."""
    user = request.user
    if not isinstance(request.session.get(TOTP_SETUP_KEY), str):
        raise CodeRefused("The set-up timed out. Scan the new QR code and try again.")
    device = totp_setup_device(request)
    code = normalise_code(code)
    checker = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    checker.time = time.time()
    if not (re.fullmatch(r"\d{6}", code) and checker.verify(int(code), device.tolerance)):
        raise CodeRefused(
            "That code does not match. Check the time on your phone and type the newest code."
        )
    TOTPDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.last_t = checker.t()  # the code just typed cannot log anyone in again
    device.save()
    del request.session[TOTP_SETUP_KEY]
    record(actor=user, action="2fa.totp_enable", obj=user, request=request)
    return _ensure_backup_codes(user)


# --- SMS codes ------------------------------------------------------------------------------
def _sms_text(code: str) -> str:
    minutes = settings.SMS_CODE_VALID_MINUTES
    return (
        f"{settings.COMPANY['name']} security code: {code}. It expires in {minutes} minutes. "
        "Never share it: we will never ask you for it."
    )


@transaction.atomic
def send_sms_code(*, device: SMSDevice) -> None:
    """Text a new 6-digit code (valid SMS_CODE_VALID_MINUTES, replacing any earlier one).
    At most one text per cool-down and SMS_CODES_PER_HOUR per hour to a phone."""
    device = _locked(device)
    allowed, info = device.generate_is_allowed()
    if not allowed:
        wait = max(1, int((info["next_generation_at"] - timezone.now()).total_seconds()))
        raise SMSNotSent(f"A code was just sent. You can ask for another in {wait} seconds.")
    now = timezone.now()
    if device.send_window_started_at is None or now - device.send_window_started_at > timedelta(
        hours=1
    ):
        device.send_window_started_at = now
        device.sends_in_window = 0
    if device.sends_in_window >= settings.SMS_CODES_PER_HOUR:
        raise SMSNotSent(
            "Too many codes were sent to this phone in the last hour. Try again later, or use "
            "your authenticator app or a backup code."
        )
    device.sends_in_window += 1
    device.generate_token(length=6, valid_secs=settings.SMS_CODE_VALID_MINUTES * 60, commit=False)
    device.cooldown_set(commit=False)
    device.save()
    try:
        # Imported here: the delivery app is built separately, and tests replace it.
        from cms_project.messaging.sending import queue_sms

        queue_sms(
            to=device.number, body=_sms_text(device.token), purpose="2fa"
        )  # hidden in the log
    except Exception as exc:
        # The code is not saved (this transaction rolls back), so nothing is half-done.
        logger.exception("Could not queue the SMS code for device %s", device.pk)
        raise SMSNotSent(
            "We could not send a text message just now. Try again in a few minutes, or use "
            "your authenticator app or a backup code."
        ) from exc


@transaction.atomic
def start_sms_setup(*, user: User, number: str) -> SMSDevice:
    """Send a code to `number` (E.164) to prove the user receives texts there."""
    device = sms_device(user, confirmed=False)
    if device is None:
        device = SMSDevice.objects.create(
            user=user, name="Text message", number=number, confirmed=False
        )
    elif device.number != number:
        device.number = number
        device.token = None  # a code sent to the old number must not confirm the new one
        device.save(update_fields=["number", "token"])
    send_sms_code(device=device)
    return device


@transaction.atomic
def confirm_sms(*, user: User, code: str, request: HttpRequest | None) -> list[str] | None:
    """Turn SMS codes on once the code texted to the new number is typed back; the number
    becomes the user's verified phone. Returns new backup codes if this created them."""
    pending = sms_device(user, confirmed=False)
    if pending is None:
        raise CodeRefused("Start again: no phone number is being verified.")
    device = _locked(pending)
    _refuse_if_throttled(device)
    if not device.verify_token(normalise_code(code)):
        raise CodeRefused("That code is wrong or has expired. Ask for a new one if needed.")
    SMSDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    user = User.objects.select_for_update().get(pk=user.pk)
    changes = {"phone": [user.phone, device.number]} if user.phone != device.number else {}
    user.phone = device.number
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    record(actor=user, action="2fa.sms_enable", obj=user, changes=changes, request=request)
    return _ensure_backup_codes(user)


# --- Backup codes ---------------------------------------------------------------------------
def _new_codes(device: StaticDevice) -> list[str]:
    device.token_set.all().delete()
    codes = []
    while len(codes) < BACKUP_CODE_COUNT:
        token = StaticToken.random_token()  # 8 characters of base32: 40 bits each
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=t) for t in codes)
    return codes


def _ensure_backup_codes(user: User) -> list[str] | None:
    if StaticDevice.objects.filter(user=user, confirmed=True).exists():
        return None
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    return _new_codes(device)


@transaction.atomic
def regenerate_backup_codes(*, user: User, request: HttpRequest | None) -> list[str]:
    """Replace every backup code; the old ones stop working at once."""
    if not has_second_factor(user):
        raise CodeRefused("Turn on an authenticator app or SMS codes first.")
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = _new_codes(device)
    record(actor=user, action="2fa.backup_codes", obj=user, request=request)
    return codes


def format_backup_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


# --- Turning it off -------------------------------------------------------------------------
def _drop_backup_codes_if_alone(user: User) -> None:
    if not has_second_factor(user):
        StaticDevice.objects.filter(user=user).delete()


def _check_may_turn_off(user: User, keeping: type | None) -> None:
    if not required_for(user):
        return
    still_has = False
    if keeping is TOTPDevice:
        still_has = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    elif keeping is SMSDevice:
        still_has = SMSDevice.objects.filter(user=user, confirmed=True).exists()
    if not still_has:
        raise TwoFactorRequired(
            "Two-factor authentication is required for staff and admin accounts. Set up the "
            "other method before turning this one off."
        )


@transaction.atomic
def disable_totp(*, user: User, request: HttpRequest | None) -> None:
    _check_may_turn_off(user, keeping=SMSDevice)
    if TOTPDevice.objects.filter(user=user).delete()[0]:
        record(actor=user, action="2fa.totp_disable", obj=user, request=request)
    _drop_backup_codes_if_alone(user)


@transaction.atomic
def disable_sms(*, user: User, request: HttpRequest | None) -> None:
    _check_may_turn_off(user, keeping=TOTPDevice)
    if SMSDevice.objects.filter(user=user).delete()[0]:
        record(actor=user, action="2fa.sms_disable", obj=user, request=request)
    _drop_backup_codes_if_alone(user)


def _delete_all_devices(user: User) -> int:
    return sum(
        model.objects.filter(user=user).delete()[0]
        for model in (TOTPDevice, SMSDevice, StaticDevice)
    )


@transaction.atomic
def disable_all(*, user: User, request: HttpRequest | None) -> None:
    _check_may_turn_off(user, keeping=None)
    _delete_all_devices(user)
    record(actor=user, action="2fa.disable", obj=user, request=request)


@transaction.atomic
def reset_second_factor(*, user: User, by: User, request: HttpRequest | None) -> None:
    """An admin removes every second factor of someone who lost their phone. The person is
    logged out everywhere; at the next log-in the password alone lets them in (and staff are
    sent to set 2FA up again when the policy requires it)."""
    removed = _delete_all_devices(user)
    end_sessions_of(user)
    record(
        actor=by,
        action="staff.2fa_reset",
        obj=user,
        note=f"{removed} device(s) removed",
        request=request,
    )


# --- The log-in's second step ----------------------------------------------------------------
@dataclass
class PendingLogin:
    user: User
    backend: str
    next_url: str
    failures: int


def start_pending_login(request: HttpRequest, *, user: User, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "next": next_url,
        "since": time.time(),
        "failures": 0,
    }


def get_pending_login(request: HttpRequest) -> PendingLogin | None:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - data.get("since", 0) > PENDING_MAX_AGE.total_seconds():
        clear_pending_login(request)
        return None
    user = User.objects.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None:
        clear_pending_login(request)
        return None
    return PendingLogin(user, data["backend"], data.get("next") or "", data.get("failures", 0))


def count_pending_failure(request: HttpRequest) -> int:
    data = request.session.get(PENDING_KEY) or {}
    data["failures"] = data.get("failures", 0) + 1
    request.session[PENDING_KEY] = data
    return data["failures"]


def clear_pending_login(request: HttpRequest) -> None:
    session = getattr(request, "session", None)
    if session is not None and PENDING_KEY in session:
        del session[PENDING_KEY]


def login_devices(user: User, code: str) -> list[Device]:
    """The confirmed devices a typed code could belong to, judged by its shape."""
    if re.fullmatch(r"\d{6}", code):
        return [
            *TOTPDevice.objects.devices_for_user(user, confirmed=True),
            *SMSDevice.objects.devices_for_user(user, confirmed=True),
        ]
    if re.fullmatch(r"[a-z2-7]{8}", code):
        return list(StaticDevice.objects.devices_for_user(user, confirmed=True))
    return []


def login_throttled(user: User, code: str) -> bool:
    """Every device this code could belong to is slowed down after wrong codes (django-otp
    waits 1 s, 2 s, 4 s… after each): no code can be checked right now."""
    devices = login_devices(user, normalise_code(code))
    return bool(devices) and not any(device.verify_is_allowed()[0] for device in devices)


def verify_login_code(*, user: User, code: str) -> Device | None:
    """The device that accepts this code (and so is used up for it), or None."""
    code = normalise_code(code)
    for device in login_devices(user, code):
        with transaction.atomic():
            locked = _locked(device)
            if locked.verify_token(code):
                return locked
    return None


def mark_session_verified(request: HttpRequest, device: Device) -> None:
    """Remember in the session which device proved the second factor (django-otp's key)."""
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
