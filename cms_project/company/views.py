from django.contrib import messages
from django.shortcuts import redirect, render

from staff.permissions import admin_required

from .changes import save_company_settings
from .forms import CompanySettingsForm
from .models import get_company


@admin_required
def company_settings(request):
    company = get_company()
    form = CompanySettingsForm(request.POST or None, request.FILES or None, instance=company)
    if request.method == "POST" and form.is_valid():
        save_company_settings(form=form, by=request.user, request=request)
        messages.success(request, "Company settings saved. New invoices will show them.")
        return redirect("company:settings")
    return render(request, "company/settings.html", {"form": form})
