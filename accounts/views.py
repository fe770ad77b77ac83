"""Pages of the client portal's account area, sign-in's second step, and invitations.

Views are thin: they check who may act (accounts.access), validate a form and
call a service; refusals from services come back as form errors or messages.
"""

import base64
from functools import wraps

import segno
from allauth.account.adapter import get_adapter
from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from nextsupport import documents
from nextsupport.models import PolicyDocument
from nextsupport.selectors import current_policy, published_policy

from . import adapter, selectors, services
from .access import organisation_view
from .dashboard import recent_activity, sections_for
from .forms import (
    INVITATION_SESSION_KEY,
    AgreementsForm,
    APIKeyForm,
    AuthenticatorForm,
    BillingForm,
    CloseOrganisationForm,
    InvitationForm,
    NotificationSettingsForm,
    OrganisationCreateForm,
    OrganisationProfileForm,
    RoleForm,
    SecondFactorForm,
    ServicePreferencesForm,
)
from .models import (
    ROLE_DESCRIPTIONS,
    APIKey,
    BackupCodeDevice,
    Capability,
    Invitation,
    Organisation,
    Role,
    SignInSession,
    TOTPDevice,
)


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return default


def _require(request, capability: str) -> None:
    if not request.membership.can(capability):
        raise PermissionDenied(f"Your role ({request.membership.get_role_display()}) does not allow this.")


def _form_error(form, exc: ValidationError) -> None:
    form.add_error(None, exc)


def _fresh(organisation: Organisation) -> Organisation:
    # Forms bind to their own copy, so a rejected edit never shows up elsewhere on the page.
    return Organisation.objects.get(pk=organisation.pk)


def no_store(view):
    """Pages showing a secret once (a new API key) must not be cached anywhere."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


# --- Where a signed-in person lands ------------------------------------------------------


@login_required
def home(request):
    if request.session.get(INVITATION_SESSION_KEY):
        return redirect("accounts:invitation", token=request.session[INVITATION_SESSION_KEY])
    memberships = list(selectors.memberships_of(request.user))
    if len(memberships) == 1:
        return redirect("accounts:dashboard", org_id=memberships[0].organisation_id)
    invitations = list(selectors.open_invitations_for_email(request.user.email))
    return render(request, "accounts/home.html", {"memberships": memberships, "invitations": invitations})


@login_required
def account_home(request):
    membership = selectors.memberships_of(request.user).first()
    if membership is None:
        return redirect("accounts:security")
    return redirect("accounts:profile", org_id=membership.organisation_id)


@login_required
def organisation_new(request):
    form = OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(
                legal_name=form.cleaned_data["legal_name"],
                company_number=form.cleaned_data["company_number"],
                owner=request.user,
                accepted=form.agreements,
                request=request,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{organisation} is set up. Our compliance team will review it before calls can start.")
            return redirect("accounts:dashboard", org_id=organisation.pk)
    return render(request, "accounts/organisation_new.html", {"form": form})


@organisation_view()
def dashboard(request):
    organisation = request.organisation
    context = {
        "blockers": selectors.launch_blockers(organisation),
        "review": selectors.latest_review(organisation),
        "team_size": organisation.memberships.count(),
        "open_invitations": selectors.open_invitations(organisation).count(),
        "active_keys": selectors.active_api_keys(organisation).count(),
        "backup_codes": BackupCodeDevice.objects.filter(user=request.user).first(),
        "acceptances": selectors.acceptances_of(organisation)[:4],
        # The other apps' work (contact lists, imports; campaigns once they land), registered in accounts.dashboard.
        "sections": sections_for(request),
        "activity": recent_activity(organisation),
    }
    return render(request, "accounts/dashboard.html", context)


# --- Organisation profile, billing, preferences ---------------------------------------------------


def _edit_organisation(request, form_class, *, section: str, template: str, capability: str, success: str):
    can_edit = request.membership.can(capability)
    if request.method == "POST":
        _require(request, capability)
    form = form_class(request.POST or None, instance=_fresh(request.organisation))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form_class._meta.fields}
        try:
            changed = services.organisation_update(
                organisation=request.organisation, changes=changes, section=section, request=request
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, success if changed else "Nothing changed.")
            return redirect(request.path)
    return render(request, template, {"form": form, "can_edit": can_edit, "section": section})


@organisation_view()
def profile(request):
    return _edit_organisation(
        request,
        OrganisationProfileForm,
        section="profile",
        template="accounts/profile.html",
        capability=Capability.MANAGE_ORGANISATION,
        success="Organisation details saved.",
    )


@organisation_view(Capability.MANAGE_ORGANISATION)
def billing(request):
    return _edit_organisation(
        request,
        BillingForm,
        section="billing",
        template="accounts/billing.html",
        capability=Capability.MANAGE_ORGANISATION,
        success="Billing details saved.",
    )


@organisation_view()
def preferences(request):
    return _edit_organisation(
        request,
        ServicePreferencesForm,
        section="preferences",
        template="accounts/preferences.html",
        capability=Capability.MANAGE_ORGANISATION,
        success="Service preferences saved.",
    )


@organisation_view()
def notifications(request):
    form = NotificationSettingsForm(request.POST or None, instance=request.membership)
    if request.method == "POST" and form.is_valid():
        services.membership_update_notifications(
            membership=request.membership,
            service_updates=form.cleaned_data["notify_service_updates"],
            usage_statements=form.cleaned_data["notify_usage_statements"],
            request=request,
        )
        messages.success(request, "Notification settings saved.")
        return redirect(request.path)
    return render(request, "accounts/notifications.html", {"form": form})


# --- Agreements (P53) -------------------------------------------------------------------------------


@organisation_view(before_agreements=True)
def agreements(request):
    outstanding = selectors.outstanding_agreements(request.organisation)
    form = AgreementsForm(request.POST or None, documents=outstanding) if outstanding else None
    if request.method == "POST":
        _require(request, Capability.MANAGE_ORGANISATION)
        if form is not None and form.is_valid():
            services.agreements_accept(
                organisation=request.organisation, user=request.user, documents=form.agreements, request=request
            )
            messages.success(request, "Thank you: the agreements are accepted on the organisation's behalf.")
            return redirect("accounts:dashboard", org_id=request.organisation.pk)
    context = {
        "outstanding": outstanding,
        "form": form,
        "can_accept": request.membership.can(Capability.MANAGE_ORGANISATION),
        "acceptances": selectors.acceptances_of(request.organisation),
    }
    return render(request, "accounts/agreements.html", context)


# /legal/<slug>/ of each agreement a client accepts (accounts_tags.legal_url links here from it too).
LEGAL_SLUGS = {"terms-of-service": PolicyDocument.Kind.TERMS, "data-processing-agreement": PolicyDocument.Kind.DPA}


def legal_document(request, kind):
    if kind not in LEGAL_SLUGS:
        raise Http404("No such document.")
    version = request.GET.get("version")
    if version is None:
        document = current_policy(LEGAL_SLUGS[kind])
    elif version.isascii() and version.isdecimal():
        # Not isdigit(): "²" is a digit to Python but not a number int() reads.
        document = published_policy(LEGAL_SLUGS[kind], int(version))
    else:
        raise Http404("Versions are whole numbers, e.g. ?version=2.")
    if document is None:
        raise Http404("That document is not published.")
    meta, blocks = documents.parse(document.body)
    context = {"title": document.title, "meta": meta, "blocks": blocks, "document": document}
    return render(request, "pages/policy.html", context)


# --- Team ----------------------------------------------------------------------------------------


@organisation_view(before_agreements=True)
def team(request):
    can_manage = request.membership.can(Capability.MANAGE_MEMBERS)
    return _team_page(request, InvitationForm(by=request.membership) if can_manage else None)


def _team_page(request, invite_form: InvitationForm | None, *, status: int = 200):
    """The team page; `invite_form` is None for a viewer who may not manage the team."""
    can_manage = invite_form is not None
    members = _team_rows(request, can_manage)
    context = {
        "members": members,
        "can_manage": can_manage,
        "invitations": selectors.open_invitations(request.organisation) if can_manage else [],
        "invite_form": invite_form,
        "owner_count": sum(member.role == Role.OWNER for member in members),  # every member is on the page
        "roles": [(Role(role).label, ROLE_DESCRIPTIONS[role]) for role in Role.values],
    }
    return render(request, "accounts/team.html", context, status=status)


def _team_rows(request, can_manage: bool) -> list:
    """Members, each with a role form when the viewer may change them (only owners change owners)."""
    by = request.membership
    members = list(selectors.team_of(request.organisation))
    for member in members:
        manageable = can_manage and member.pk != by.pk and (member.role != Role.OWNER or by.role == Role.OWNER)
        member.manageable = manageable
        member.role_form = RoleForm(initial={"role": member.role}, by=by, prefix=f"m{member.pk}") if manageable else None
    return members


@require_POST
@organisation_view(Capability.MANAGE_MEMBERS, before_agreements=True)
def team_invite(request):
    form = InvitationForm(request.POST, by=request.membership)
    if form.is_valid():
        try:
            services.invitation_create(
                organisation=request.organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.membership,
                request=request,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            days = settings.TEAM_INVITATION_VALID_DAYS
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}. The link works for {days} days.")
            return redirect("accounts:team", org_id=request.organisation.pk)
    return _team_page(request, form, status=400)


@require_POST
@organisation_view(Capability.MANAGE_MEMBERS, before_agreements=True)
def invitation_resend(request, invitation_id):
    invitation = get_object_or_404(Invitation, pk=invitation_id, organisation=request.organisation)
    try:
        services.invitation_resend(invitation=invitation, by=request.membership, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Invitation sent again to {invitation.email}; the earlier link no longer works.")
    return redirect("accounts:team", org_id=request.organisation.pk)


@require_POST
@organisation_view(Capability.MANAGE_MEMBERS, before_agreements=True)
def invitation_revoke(request, invitation_id):
    invitation = get_object_or_404(Invitation, pk=invitation_id, organisation=request.organisation)
    services.invitation_revoke(invitation=invitation, request=request)
    messages.success(request, "Invitation withdrawn; its link no longer works.")
    return redirect("accounts:team", org_id=request.organisation.pk)


@require_POST
@organisation_view(Capability.MANAGE_MEMBERS, before_agreements=True)
def member_role(request, membership_id):
    membership = get_object_or_404(request.organisation.memberships, pk=membership_id)
    form = RoleForm(request.POST, by=request.membership, prefix=f"m{membership.pk}")
    if not form.is_valid():
        messages.error(request, "Choose one of the roles offered.")
    else:
        try:
            services.membership_change_role(
                membership=membership, role=form.cleaned_data["role"], by=request.membership, request=request
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            role = Role(form.cleaned_data["role"]).label.lower()
            messages.success(request, f"{membership.user.get_full_name()} is now {role}.")
    return redirect("accounts:team", org_id=request.organisation.pk)


@organisation_view(Capability.MANAGE_MEMBERS, before_agreements=True)
def member_remove(request, membership_id):
    membership = get_object_or_404(request.organisation.memberships.select_related("user"), pk=membership_id)
    if request.method != "POST":
        return render(request, "accounts/member_remove.html", {"member": membership})
    try:
        services.membership_remove(membership=membership, by=request.membership, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user.get_full_name()} no longer has access to {request.organisation}.")
    return redirect("accounts:team", org_id=request.organisation.pk)


@require_POST
@organisation_view(before_agreements=True)
def team_leave(request):
    try:
        services.membership_remove(membership=request.membership, by=request.membership, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:team", org_id=request.organisation.pk)
    messages.success(request, f"You left {request.organisation}.")
    return redirect("accounts:home")


def invitation(request, token):
    invitation = Invitation.from_token(token)
    if invitation is None or not invitation.is_open or invitation.organisation.status != Organisation.Status.ACTIVE:
        return _invitation_unusable(request)
    if not request.user.is_authenticated:
        # Signing up from here joins this organisation, and the address counts as verified: the link proves it.
        request.session[INVITATION_SESSION_KEY] = token
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "accounts/invitation.html", {"invitation": invitation, "token": token})
    if invitation.email.lower() != request.user.email.lower():
        return _invitation_unusable(request)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(invitation=invitation, user=request.user, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("accounts:home")
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, f"Welcome to {membership.organisation}.")
        return redirect("accounts:dashboard", org_id=membership.organisation_id)
    return render(request, "accounts/invitation.html", {"invitation": invitation, "token": token})


def _invitation_unusable(request):
    # The same answer for a forged, expired, withdrawn or someone else's link: nothing leaks.
    request.session.pop(INVITATION_SESSION_KEY, None)
    return render(request, "accounts/invitation_unusable.html", status=404)


# --- API keys -------------------------------------------------------------------------------------


@no_store
@organisation_view(Capability.MANAGE_API_KEYS)
def api_keys(request):
    form = APIKeyForm(request.POST or None)
    new_key = raw_key = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key, raw_key = services.api_key_create(
                organisation=request.organisation,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
                created_by=request.user,
                request=request,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            form = APIKeyForm()
    context = {"keys": selectors.api_keys_of(request.organisation), "form": form, "new_key": new_key, "raw_key": raw_key}
    return render(request, "accounts/api_keys.html", context, status=201 if raw_key else 200)


@organisation_view(Capability.MANAGE_API_KEYS)
def api_key_revoke(request, key_id):
    key = get_object_or_404(APIKey, pk=key_id, organisation=request.organisation)
    if request.method != "POST":
        return render(request, "accounts/api_key_revoke.html", {"key": key})
    if services.api_key_revoke(api_key=key, by=request.user, request=request):
        messages.success(request, f"The key “{key.name}” is revoked and stops working immediately.")
    return redirect("accounts:api-keys", org_id=request.organisation.pk)


# --- Export and closing -----------------------------------------------------------------------------


@organisation_view(Capability.MANAGE_ORGANISATION, before_agreements=True)
def export(request):
    if request.method != "POST":
        return render(request, "accounts/export.html")
    export_format = request.POST.get("format", "json")
    if export_format not in selectors.EXPORT_FORMATS:
        return HttpResponse("Choose JSON or CSV.", status=400, content_type="text/plain")
    data = services.account_export(organisation=request.organisation, request=request)
    contents, content_type, extension = selectors.account_export_file(data, format=export_format)
    response = HttpResponse(contents, content_type=content_type)
    filename = f"nextsupport-account-{request.organisation.pk}-{timezone.localdate():%Y%m%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@organisation_view(Capability.CLOSE_ORGANISATION, before_agreements=True)
@reauthentication_required(allow_get=True)
def close(request):
    form = CloseOrganisationForm(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_close(
                organisation=request.organisation, by=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, f"{request.organisation} is closed. We have e-mailed a confirmation to its owners and admins."
            )
            return redirect("accounts:home")
    return render(request, "accounts/close.html", {"form": form})


# --- Security: authenticators, backup codes, sessions ------------------------------------------------------


@login_required
def security(request):
    overview = selectors.security_overview(request.user)
    current = request.session.get(SignInSession.SESSION_KEY)
    return render(request, "accounts/security.html", {"overview": overview, "current_session": current})


@login_required
@reauthentication_required
def authenticator_add(request):
    return _enrol(request, template="accounts/authenticator_add.html", done=reverse("accounts:security"))


@require_POST
@login_required
def authenticator_remove(request, device_id):
    # Someone else's device is a 404 before anything else, re-authentication included.
    device = get_object_or_404(TOTPDevice, pk=device_id, user=request.user, confirmed=True)
    return _authenticator_remove(request, device)


@reauthentication_required
def _authenticator_remove(request, device):
    try:
        services.authenticator_remove(device=device, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{device.name}” removed: its codes no longer work.")
    return redirect("accounts:security")


@require_POST
@login_required
@reauthentication_required
def backup_codes_regenerate(request):
    codes = services.backup_codes_replace(user=request.user, request=request)
    return _show_codes_once(request, codes, done=reverse("accounts:security"), replaced=True)


@require_POST
@login_required
def session_end(request, session_id):
    record = get_object_or_404(SignInSession, pk=session_id, user=request.user, ended_at__isnull=True)
    services.sign_in_sessions_end(user=request.user, request=request, only=record)
    messages.success(request, "That session is signed out.")
    return redirect("accounts:security")


@require_POST
@login_required
def sessions_end_others(request):
    ended = services.sign_in_sessions_end(user=request.user, request=request)
    messages.success(request, f"Signed out of {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("accounts:security")


# --- Sign-in, second step ---------------------------------------------------------------------------------


@never_cache
@login_required
def two_factor_setup(request):
    if request.user.is_verified():
        return redirect(_next_url(request, reverse("accounts:home")))
    if selectors.has_authenticator(request.user):
        return redirect(f"{reverse('accounts:two-factor-verify')}?next={_next_url(request, reverse('accounts:home'))}")
    return _enrol(request, template="accounts/two_factor_setup.html", done=_next_url(request, reverse("accounts:home")))


def _enrol(request, *, template: str, done: str):
    device = services.authenticator_pending(user=request.user, session=request.session)
    form = AuthenticatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", "Too many wrong codes in a row. Wait a minute, then enter the newest code.")
        elif services.authenticator_confirm(
            device=device, name=form.cleaned_data["name"], token=form.cleaned_data["code"], request=request
        ):
            codes = services.backup_codes_issue_if_missing(user=request.user, request=request)
            if codes:
                return _show_codes_once(request, codes, done=done, replaced=False)
            messages.success(request, "Authenticator app added.")
            return redirect(done)
        else:
            form.add_error(
                "code",
                "That code did not match. Enter the newest code, and check that your phone sets its clock automatically.",
            )
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        # omitsize: a viewBox instead of a fixed size, so CSS scales the whole code rather than cropping it.
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(
            scale=5,
            dark="#14213d",
            light="#ffffff",
            title="QR code for your authenticator app",
            svgclass="qr-code",
            omitsize=True,
        ),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "next": done,
    }
    return render(request, template, context)


def _show_codes_once(request, codes: list[str], *, done: str, replaced: bool):
    """The answer to the POST that made the codes: they exist nowhere else in clear (no session,
    no redirect to fetch them from), and no cache may keep this page."""
    response = render(request, "accounts/backup_codes.html", {"codes": codes, "next": done, "replaced": replaced})
    add_never_cache_headers(response)
    return response


@never_cache
@login_required
def two_factor_verify(request):
    done = _next_url(request, reverse("accounts:home"))
    if request.user.is_verified():
        return redirect(done)
    if not selectors.has_authenticator(request.user):
        return redirect(f"{reverse('accounts:two-factor-setup')}?next={done}")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, throttled = _matching_device(request.user, form.cleaned_data["code"])
        if device is not None:
            services.second_factor_verified(request=request, device=device)
            return redirect(done)
        if throttled:
            form.add_error("code", "Too many wrong codes in a row. Wait a minute before trying again.")
        elif services.second_factor_failed(request=request):
            logout(request)
            messages.error(request, adapter.PAUSED_MESSAGE.format(minutes=settings.SIGN_IN_LOCKOUT_MINUTES))
            return redirect("account_login")
        else:
            form.add_error("code", "That code is not right. Enter the newest code from your app, or a backup code.")
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": done})


def _matching_device(user, code: str):
    """(the device that accepts `code`, whether throttling refused a try)."""
    code = "".join(code.split())
    if code.isdigit() and len(code) == 6:
        candidates = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        candidates = BackupCodeDevice.objects.filter(user=user, confirmed=True)
    throttled = False
    with transaction.atomic():
        for device in candidates.select_for_update():
            if not device.verify_is_allowed()[0]:
                throttled = True
                continue
            if device.verify_token(code):
                return device, False
    return None, throttled
