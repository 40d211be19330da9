"""Staff workspace pages for clients, their locations and equipment, interactions, tasks,
CSV import and export. Thin: check permission, call one function, message, redirect."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cms_project.pagination import windowed_page
from staff.permissions import admin_required, workspace_required

from . import crm, exporting, importing, invitations, ledger_hooks
from .accounts import (
    RemovalOutcome,
    client_has_financial_records,
    delete_or_cancel_client,
    save_client,
)
from .equipment import (
    EquipmentRuleError,
    add_equipment,
    move_equipment,
    save_equipment_details,
    save_location,
)
from .forms import (
    ClientForm,
    ClientSearchForm,
    CompleteTaskForm,
    EquipmentDetailsForm,
    ImportUploadForm,
    InstallFromStockForm,
    InteractionForm,
    LocationForm,
    MoveForm,
    NewEquipmentForm,
    PortalInviteForm,
    TaskFilterForm,
    TaskForm,
)
from .models import Client, ClientImport, Equipment, FollowUpTask, Interaction, ServiceLocation
from .queries import account_overview, interactions_of
from .search import search_clients

PAGE_SIZE = 50


def _get_client(pk: int) -> Client:
    return get_object_or_404(Client, pk=pk)


def _get_location(pk: int) -> ServiceLocation:
    return get_object_or_404(ServiceLocation.objects.select_related("client"), pk=pk)


def _get_equipment(pk: int) -> Equipment:
    return get_object_or_404(Equipment.objects.select_related("location__client"), pk=pk)


def _get_task(pk: int) -> FollowUpTask:
    return get_object_or_404(FollowUpTask.objects.select_related("client", "assignee"), pk=pk)


# --- Clients ------------------------------------------------------------------------------
@workspace_required
def client_list(request):
    search = ClientSearchForm(request.GET or None)
    filters = search.filters()
    clients = search_clients(filters)
    number = request.GET.get("page")
    if filters.q.strip():
        # The search's UNION once for the page and its count; figures for the page's rows only.
        page = windowed_page(
            clients,
            number,
            per_page=PAGE_SIZE,
            load=lambda pks: ledger_hooks.with_figures(Client.objects.filter(pk__in=pks)),
        )
    else:
        page = Paginator(ledger_hooks.with_figures(clients), PAGE_SIZE).get_page(number)
    return render(
        request,
        "clients/client_list.html",
        {"search": search, "page": page, "query_string": request.GET.urlencode()},
    )


@workspace_required
def client_create(request):
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = save_client(client=form.save(commit=False), by=request.user, request=request)
        messages.success(request, f"{client.display_name} was added as {client.account_number}.")
        return redirect("clients:client_detail", client.pk)
    return render(request, "clients/client_form.html", {"form": form, "creating": True})


@workspace_required
def client_detail(request, pk: int):
    client = get_object_or_404(ledger_hooks.clients_with_figures(), pk=pk)
    return render(
        request,
        "clients/client_detail.html",
        {"client": client, **account_overview(client)},
    )


@workspace_required
def client_edit(request, pk: int):
    client = _get_client(pk)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        save_client(client=form.save(commit=False), by=request.user, request=request)
        messages.success(request, f"{client.display_name} was saved.")
        return redirect("clients:client_detail", client.pk)
    return render(request, "clients/client_form.html", {"form": form, "client": client})


@admin_required
def client_delete(request, pk: int):
    """Admins only. Clients with invoices or payments are cancelled instead (GUIDE §2)."""
    client = _get_client(pk)
    if request.method == "POST":
        outcome = delete_or_cancel_client(client=client, by=request.user, request=request)
        if outcome == RemovalOutcome.CANCELLED:
            messages.warning(
                request,
                f"{client.display_name} has invoices or payments, which must be kept, so the "
                "account was cancelled instead of deleted.",
            )
            return redirect("clients:client_detail", client.pk)
        messages.success(request, f"{client.display_name} ({client.account_number}) was deleted.")
        return redirect("clients:client_list")
    return render(
        request,
        "clients/client_delete.html",
        {"client": client, "has_financial_records": client_has_financial_records(client)},
    )


@workspace_required
def portal_invite(request, pk: int):
    """Link an existing client login, or email an invitation to create one."""
    client = _get_client(pk)
    form = PortalInviteForm(request.POST or None, initial={"email": client.email})
    if request.method == "POST" and form.is_valid() and client.user_id is None:
        email = form.cleaned_data["email"]
        try:
            outcome = invitations.link_or_invite(
                client=client, email=email, by=request.user, request=request
            )
        except invitations.InvitationError as exc:
            form.add_error(exc.field, str(exc))
        else:
            if outcome == "linked":
                messages.success(request, f"The login {email} is now linked to this client.")
            else:
                messages.success(
                    request,
                    f"An invitation was sent to {email}; the link works for "
                    f"{invitations.INVITATION_MAX_AGE.days} days.",
                )
            return redirect("clients:client_detail", client.pk)
    return render(request, "clients/portal_invite.html", {"form": form, "client": client})


# --- Locations and equipment --------------------------------------------------------------
@workspace_required
def location_create(request, pk: int):
    client = _get_client(pk)
    form = LocationForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            location = save_location(
                location=form.save(commit=False), by=request.user, request=request
            )
        except IntegrityError:  # the same address saved a moment ago by someone else
            form.add_error(
                "street", f"{client.display_name} already has a location at this address."
            )
        else:
            messages.success(request, f"Location “{location.label}” was added.")
            return redirect(
                f"{reverse('clients:client_detail', args=[client.pk])}#location-{location.pk}"
            )
    return render(request, "clients/location_form.html", {"form": form, "client": client})


@workspace_required
def location_edit(request, pk: int):
    location = _get_location(pk)
    client = location.client
    form = LocationForm(request.POST or None, instance=location, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            save_location(location=form.save(commit=False), by=request.user, request=request)
        except IntegrityError:
            form.add_error(
                "street", f"{client.display_name} already has a location at this address."
            )
        else:
            messages.success(request, f"Location “{location.label}” was saved.")
            return redirect(
                f"{reverse('clients:client_detail', args=[client.pk])}#location-{location.pk}"
            )
    return render(
        request,
        "clients/location_form.html",
        {"form": form, "client": client, "location": location},
    )


def _equipment_form_page(request, form, location=None):
    if request.method == "POST" and form.is_valid():
        try:
            device = add_equipment(
                equipment=form.save(commit=False), by=request.user, request=request
            )
        except IntegrityError:
            form.add_error("serial_number", "This serial number was just recorded by someone else.")
        else:
            messages.success(request, f"{device} was added.")
            if location is not None:
                return redirect(
                    f"{reverse('clients:client_detail', args=[location.client_id])}#location-{location.pk}"
                )
            return redirect("clients:equipment_detail", device.pk)
    return render(
        request,
        "clients/equipment_form.html",
        {"form": form, "location": location, "creating": True},
    )


@workspace_required
def equipment_create(request, pk: int):
    location = _get_location(pk)
    form = NewEquipmentForm(request.POST or None, location=location)
    return _equipment_form_page(request, form, location)


@workspace_required
def equipment_stock_create(request):
    form = NewEquipmentForm(request.POST or None)
    return _equipment_form_page(request, form)


@workspace_required
@require_POST
def equipment_install_from_stock(request, pk: int):
    location = _get_location(pk)
    form = InstallFromStockForm(request.POST)
    if form.is_valid():
        device = move_equipment(
            equipment=form.cleaned_data["serial_number"],
            to_location=location,
            status=Equipment.Status.INSTALLED,
            by=request.user,
            note="Installed from stock",
            request=request,
        )
        messages.success(request, f"{device} is now installed at {location.label}.")
    else:
        messages.error(request, " ".join(form.errors["serial_number"]))
    return redirect(
        f"{reverse('clients:client_detail', args=[location.client_id])}#location-{location.pk}"
    )


@workspace_required
def equipment_list(request):
    """The inventory: every device, searchable by serial number, filterable by status."""
    devices = Equipment.objects.select_related("location__client").order_by("serial_number")
    # Serial numbers are at most 64 characters; a longer query cannot match (and a huge one
    # is refused by SQLite's LIKE). PostgreSQL refuses NUL bytes in text.
    q = request.GET.get("q", "").replace("\x00", "").strip().upper()[:64]
    status = request.GET.get("status", "")
    if q:
        devices = devices.filter(serial_number__contains=q)
    if status in Equipment.Status.values:
        devices = devices.filter(status=status)
    page = Paginator(devices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/equipment_list.html",
        {"page": page, "q": q, "status": status, "statuses": Equipment.Status.choices},
    )


@workspace_required
def equipment_detail(request, pk: int):
    device = _get_equipment(pk)
    history = device.moves.select_related("from_location", "to_location", "moved_by")
    return render(
        request,
        "clients/equipment_detail.html",
        {"device": device, "history": history, "move_form": MoveForm(equipment=device)},
    )


@workspace_required
def equipment_edit(request, pk: int):
    device = _get_equipment(pk)
    form = EquipmentDetailsForm(request.POST or None, instance=device)
    if request.method == "POST" and form.is_valid():
        try:
            save_equipment_details(
                equipment=form.save(commit=False), by=request.user, request=request
            )
        except IntegrityError:
            form.add_error("serial_number", "This serial number was just recorded by someone else.")
        else:
            messages.success(request, f"{device} was saved.")
            return redirect("clients:equipment_detail", device.pk)
    return render(
        request,
        "clients/equipment_form.html",
        {"form": form, "device": device, "location": device.location},
    )


@workspace_required
def equipment_move(request, pk: int):
    device = _get_equipment(pk)
    form = MoveForm(request.POST or None, equipment=device)
    if request.method == "POST" and form.is_valid():
        try:
            device = move_equipment(
                equipment=device,
                to_location=form.cleaned_data["location"],
                status=form.cleaned_data["status"],
                by=request.user,
                note=form.cleaned_data["note"],
                request=request,
            )
        except EquipmentRuleError as exc:
            form.add_error(None, str(exc))
        else:
            where = device.location.label if device.location else "stock"
            messages.success(
                request, f"{device} is now {device.get_status_display().lower()} ({where})."
            )
            return redirect("clients:equipment_detail", device.pk)
    return render(request, "clients/equipment_move.html", {"device": device, "form": form})


# --- Interactions and tasks ---------------------------------------------------------------
@workspace_required
def interaction_create(request, pk: int):
    client = _get_client(pk)
    form = InteractionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        crm.log_interaction(
            interaction=form.save(commit=False),
            client=client,
            by=request.user,
            follow_up_due=form.cleaned_data["follow_up_due"],
        )
        messages.success(request, "The interaction was logged.")
        return redirect(_timeline_of(client))
    return render(request, "clients/interaction_form.html", {"form": form, "client": client})


def _timeline_of(client: Client) -> str:
    return f"{reverse('clients:client_detail', args=[client.pk])}#timeline"


@workspace_required
def interaction_edit(request, pk: int):
    interaction = get_object_or_404(Interaction.objects.select_related("client"), pk=pk)
    client = interaction.client
    form = InteractionForm(request.POST or None, instance=interaction)
    if request.method == "POST" and form.is_valid():
        crm.edit_interaction(interaction=form.save(commit=False), by=request.user, request=request)
        messages.success(request, "The interaction was saved.")
        return redirect(_timeline_of(client))
    return render(
        request,
        "clients/interaction_form.html",
        {"form": form, "client": client, "interaction": interaction},
    )


@admin_required
def interaction_delete(request, pk: int):
    """Admins only, as for every deletion; the audit log keeps what the entry said."""
    interaction = get_object_or_404(Interaction.objects.select_related("client"), pk=pk)
    client = interaction.client
    if request.method == "POST":
        crm.delete_interaction(interaction=interaction, by=request.user, request=request)
        messages.success(request, f"The interaction “{interaction.subject}” was deleted.")
        return redirect(_timeline_of(client))
    return render(
        request, "clients/interaction_delete.html", {"interaction": interaction, "client": client}
    )


@workspace_required
def interaction_list(request, pk: int):
    client = _get_client(pk)
    page = Paginator(interactions_of(client), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "clients/interaction_list.html", {"client": client, "page": page})


@workspace_required
def task_list(request):
    filters = TaskFilterForm(request.GET or None)
    who, state = "mine", "open"
    if filters.is_valid():
        who = filters.cleaned_data["who"] or who
        state = filters.cleaned_data["state"] or state
    tasks = crm.tasks_for(user=request.user, who=who, state=state)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/task_list.html",
        {"filters": filters, "page": page, "who": who, "state": state},
    )


def _task_form_page(request, client: Client | None):
    task = FollowUpTask(assignee=request.user, client=client)
    form = TaskForm(request.POST or None, instance=task, client=client)
    if request.method == "POST" and form.is_valid():
        task = crm.save_task(task=form.save(commit=False), by=request.user)
        messages.success(request, f"Task “{task.title}” was added for {task.assignee}.")
        if client is not None:
            return redirect(f"{reverse('clients:client_detail', args=[client.pk])}#tasks")
        return redirect("clients:task_list")
    return render(
        request, "clients/task_form.html", {"form": form, "client": client, "creating": True}
    )


@workspace_required
def task_create(request):
    return _task_form_page(request, None)


@workspace_required
def client_task_create(request, pk: int):
    return _task_form_page(request, _get_client(pk))


@workspace_required
def task_edit(request, pk: int):
    task = _get_task(pk)
    form = TaskForm(request.POST or None, instance=task)
    if request.method == "POST" and form.is_valid():
        crm.save_task(task=form.save(commit=False), by=request.user)
        messages.success(request, f"Task “{task.title}” was saved.")
        return redirect("clients:task_list")
    return render(
        request, "clients/task_form.html", {"form": form, "task": task, "client": task.client}
    )


@workspace_required
def task_complete(request, pk: int):
    task = _get_task(pk)
    # Bound on every POST: a task without a client has no fields, so the POST may be empty.
    form = CompleteTaskForm(request.POST if request.method == "POST" else None, task=task)
    if request.method == "POST" and form.is_valid():
        crm.complete_task(task=task, by=request.user, interaction=form.interaction())
        messages.success(request, f"Task “{task.title}” is done.")
        if task.client_id:
            return redirect(f"{reverse('clients:client_detail', args=[task.client_id])}#timeline")
        return redirect("clients:task_list")
    return render(request, "clients/task_complete.html", {"form": form, "task": task})


# --- CSV ----------------------------------------------------------------------------------
def _filtered_clients(request):
    return search_clients(ClientSearchForm(request.GET or None).filters())


@workspace_required
def client_export(request):
    return exporting.csv_response(
        exporting.dated("clients"), exporting.client_rows(_filtered_clients(request))
    )


def _scope(request):
    """Locations and equipment of the filtered clients; everything when nothing is filtered."""
    return _filtered_clients(request) if request.GET else None


@workspace_required
def location_export(request):
    return exporting.csv_response(
        exporting.dated("locations"), exporting.location_rows(_scope(request))
    )


@workspace_required
def equipment_export(request):
    return exporting.csv_response(
        exporting.dated("equipment"), exporting.equipment_rows(_scope(request))
    )


@workspace_required
def import_template(request):
    return exporting.csv_response("clients-import-template.csv", importing.template_rows())


@workspace_required
def import_start(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        filename, text = form.cleaned_data["file"]
        record = importing.prepare_import(filename=filename, text=text, by=request.user)
        return redirect("clients:import_preview", record.pk)
    recent = ClientImport.objects.defer("content", "errors", "preview").select_related(
        "uploaded_by"
    )[:10]
    return render(request, "clients/import_start.html", {"form": form, "recent": recent})


def _get_import(pk: int) -> ClientImport:
    return get_object_or_404(ClientImport.objects.defer("content"), pk=pk)


@workspace_required
def import_preview(request, pk: int):
    return render(request, "clients/import_preview.html", {"record": _get_import(pk)})


@workspace_required
@never_cache
def import_status(request, pk: int):
    """What the preview page's progress bar polls while a large file is checked or imported."""
    record = _get_import(pk)
    return JsonResponse(
        {
            "status": record.status,
            "status_label": record.get_status_display(),
            "done": not record.is_working,
            "percent": record.progress,
            "note": record.progress_note,
        }
    )


@workspace_required
@require_POST
def import_commit(request, pk: int):
    record = _get_import(pk)
    if record.status == ClientImport.Status.INVALID:
        messages.error(request, "Fix the errors in the file and upload it again.")
        return redirect("clients:import_preview", record.pk)
    record = importing.request_import(client_import=record)
    if record.status == ClientImport.Status.IMPORTED:
        messages.success(
            request,
            f"{record.client_count} clients and {record.location_count} locations were imported.",
        )
    elif record.status == ClientImport.Status.IMPORTING:
        messages.info(request, "The import has started; this page shows how far it got.")
    else:
        messages.error(request, "The file no longer imports cleanly; nothing was imported.")
    return redirect("clients:import_preview", record.pk)
