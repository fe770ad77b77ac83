from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from nextsupport import ratelimit

from . import services
from .forms import ContactForm


@require_http_methods(["GET", "POST"])
def contact(request):
    form = ContactForm(request.POST or None)
    if request.method != "POST":
        return render(request, "compliance/contact.html", {"form": form})
    if form.is_bot():
        # Answer a bot exactly as a person, so it learns nothing; store nothing.
        return redirect("contact-thanks")
    if not form.is_valid():
        return render(request, "compliance/contact.html", {"form": form}, status=400)
    # Only complete submissions count: they are what stores data and sends e-mail.
    if not ratelimit.allow("contact-form", request, limit=settings.CONTACT_FORM_LIMIT_PER_HOUR, window=3600):
        form.add_error(None, "You have sent several messages in the last hour. Please wait an hour, or e-mail us instead.")
        return render(request, "compliance/contact.html", {"form": form}, status=429)
    data = form.cleaned_data
    services.enquiry_submit(name=data["name"], email=data["email"], subject=data["subject"], message=data["message"])
    return redirect("contact-thanks")


@require_GET
def contact_thanks(request):
    return render(request, "compliance/contact_thanks.html")


# --- Records and evidence ---------------------------------------------------------------------


@require_GET
def sub_processors(request, version: int | None = None):
    """The sub-processors page: its published introduction, then the register as the configuration uses it (P20, P23)."""
    from nextsupport.models import PolicyDocument
    from nextsupport.views import policy_context

    from .records import public_subprocessors

    context = policy_context(PolicyDocument.Kind.SUBPROCESSORS, version)
    context["entries"] = public_subprocessors()
    return render(request, "compliance/sub_processors.html", context)
