from django.contrib import messages
from django.shortcuts import redirect, render

from staff.permissions import admin_required

from .changes import save_company_settings, save_reminder_templates
from .forms import CompanySettingsForm, reminder_step_forms
from .models import get_company
from .reminder_templates import PLACEHOLDERS


@admin_required
def company_settings(request):
    company = get_company()
    form = CompanySettingsForm(request.POST or None, request.FILES or None, instance=company)
    if request.method == "POST" and form.is_valid():
        save_company_settings(form=form, by=request.user, request=request)
        messages.success(request, "Company settings saved. New invoices will show them.")
        return redirect("company:settings")
    return render(request, "company/settings.html", {"form": form})


@admin_required
def reminder_templates(request):
    """The channels and texts of each step of the reminder schedule."""
    company = get_company()
    forms = reminder_step_forms(company, request.POST or None)
    if request.method == "POST" and forms and all(form.is_valid() for form in forms):
        save_reminder_templates(forms=forms, by=request.user, request=request)
        messages.success(request, "Reminder texts saved. The next reminders use them.")
        return redirect("company:reminders")
    return render(
        request,
        "company/reminders.html",
        {"forms": forms, "placeholders": PLACEHOLDERS, "company": company},
        status=400 if request.method == "POST" and forms else 200,
    )
