"""Public sign-up pages (mounted at /signup/)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from staff.permissions import public
from staff.security import no_store

from .forms import SignupForm
from .signup import SignupError, TooManySignups, complete_signup, pending_from_token, request_signup


@public
@sensitive_post_parameters("password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            request_signup(
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                phone=data["phone"],
                password=data["password1"],
                request=request,
            )
        except TooManySignups:
            form.add_error(None, "Too many sign-ups from your network. Please try again later.")
        else:
            # The same answer whether the address was free or already registered.
            return redirect("signup:sent")
    return render(request, "signup/signup.html", {"form": form})


@public
def signup_sent(request):
    return render(request, "signup/sent.html", {"hours": settings.SIGNUP_LINK_MAX_AGE_HOURS})


@public
@no_store
def verify(request, token: str):
    """GET shows a button, POST creates the account: mail scanners that open links must not
    confirm sign-ups on their own."""
    if request.method == "POST":
        try:
            user = complete_signup(token=token, request=request)
        except SignupError as exc:
            return render(request, "signup/verify_invalid.html", {"message": str(exc)}, status=400)
        messages.success(
            request,
            f"Your email address is confirmed and your account is ready, {user.first_name}. "
            "Log in with the password you chose.",
        )
        return redirect("login")
    pending = pending_from_token(token)
    if pending is None:
        return render(
            request,
            "signup/verify_invalid.html",
            {"message": "This link has expired or has already been used."},
        )
    return render(request, "signup/verify.html", {"pending": pending})
