"""Publish version 1 of the cookie policy introduction, the accessibility statement and the
sub-processors list (the cookie policy page adds the live cookie register below its introduction)."""

import datetime

from django.db import migrations
from django.utils import timezone

EFFECTIVE = datetime.date(2026, 11, 28)

COOKIE_POLICY = """Last updated: 28 November 2026
This cookie policy explains how NextSupport Ltd uses cookies and similar technologies on www.nextsupport.co.uk. It complements our Privacy Policy. Questions about it are welcome at compliance@nextsupport.co.uk.
What cookies are
Cookies are small text files a website stores in your browser. Browser storage and scripts from other companies work in similar ways, and this policy covers them in the same way.
How we ask for your consent
- Strictly necessary cookies make the site work: they remember your cookie choice, keep forms secure and keep clients signed in. The law allows them without consent, and we never use them to track you.
- Every other cookie or script stays off until you allow its category. Nothing optional is set or loaded before you choose, and rejecting is as easy as accepting.
- If your browser sends the Global Privacy Control signal, we treat it as a "no" to every optional category.
- Your choice lasts 12 months. We ask again sooner if this policy changes.
How we keep proof of your choice
Each time you choose, we record an anonymous consent ID (also kept in your browser, and shown in your cookie settings), the categories you allowed, the versions of this policy and of the cookie banner you saw, the time, whether your browser sent the Global Privacy Control signal, and a one-way code of your network (never your full IP address). We keep these records for 12 months and then delete them. To ask about a record, quote your consent ID.
Google Analytics
If you allow analytics cookies, we use Google Analytics 4 to count visits and see which pages are used. IP anonymisation is on, Google signals and advertising features are off, and its cookies last no longer than 12 months. The figures are aggregated and we do not use them to identify you. Google processes this data for us under its data processing terms, with the transfer safeguards described in our Privacy Policy.
Changing your mind
You can change or withdraw your consent at any time with "Cookie settings" at the bottom of every page, as easily as you gave it. Withdrawing stops the scripts of that category and deletes their cookies. You can also block or delete cookies in your browser's settings.
The list below is generated from our cookie register, so it always shows what the site really uses."""

ACCESSIBILITY = """Last updated: 28 November 2026
NextSupport Ltd wants everyone to be able to use www.nextsupport.co.uk and our client portal, in line with the Equality Act 2010. We aim to meet the Web Content Accessibility Guidelines (WCAG) 2.2 at level AA.
How accessible this website is
- Every page works with a keyboard alone, with a visible focus indicator, and with a screen reader: pages have landmarks, headings in order, labelled form fields, and error messages tied to their fields.
- Text and controls meet WCAG AA colour contrast, and pages reflow down to 320 pixels wide without sideways scrolling.
- The cookie banner and cookie settings work with a keyboard and are announced to screen readers. The cookie settings close with the Escape key and return you to where you were.
- Animations are switched off when your device asks for reduced motion.
How we test
Every public page, the cookie banner and the cookie settings are checked with the axe-core accessibility engine in a real browser on every change to the site, and keyboard-only use of the cookie controls is tested the same way. Automated tools do not catch everything, so we also check pages by hand.
Known problems
We are not aware of any part of the public website that fails WCAG 2.2 AA. If you find one, please tell us and we will fix it.
Feedback and other formats
If you find a problem, or need information in another format such as large print or plain text, e-mail compliance@nextsupport.co.uk or use our contact page. We reply within 5 working days.
If you are not happy with our answer
You can contact the Equality Advisory and Support Service (EASS) at www.equalityadvisoryservice.com."""

SUBPROCESSORS = """Last updated: 28 November 2026
These are the companies that process personal data on NextSupport's behalf when we provide our services and run this website. Each is bound by a data processing agreement, and any transfer outside the UK is protected by the safeguards described in our Privacy Policy (the UK International Data Transfer Agreement or Addendum, or Standard Contractual Clauses).
Current sub-processors
- Amazon Web Services EMEA SARL: cloud hosting, databases and encrypted file storage for the platform, including call recordings. Location: London (eu-west-2), United Kingdom.
- Google Ireland Limited: Google Analytics for this website, only for visitors who allow analytics cookies. Location: Ireland, with transfers to the United States.
Changes to this list
We publish a new version of this page before a new sub-processor starts processing personal data. Clients are e-mailed about significant changes and may object under their data processing agreement. Earlier versions stay available below.
Questions
Write to compliance@nextsupport.co.uk."""

DOCUMENTS = [
    ("cookies", "Cookie Policy", COOKIE_POLICY),
    ("accessibility", "Accessibility Statement", ACCESSIBILITY),
    ("subprocessors", "Sub-processors", SUBPROCESSORS),
]


def publish(apps, schema_editor):
    PolicyDocument = apps.get_model("nextsupport", "PolicyDocument")
    for kind, title, body in DOCUMENTS:
        if PolicyDocument.objects.filter(kind=kind).exists():
            continue
        PolicyDocument.objects.create(
            kind=kind,
            version=1,
            title=title,
            body=body,
            status="published",
            effective_date=EFFECTIVE,
            published_at=timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [("nextsupport", "0005_policy_clients_notified_at")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
