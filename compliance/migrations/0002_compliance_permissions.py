from django.db import migrations

from accounts.compliance_group import grant_to_compliance


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_enquiries"), ("accounts", "0004_compliance_group")]

    operations = [grant_to_compliance("compliance", ["view_enquiry", "change_enquiry", "view_enquiryreply", "add_enquiryreply"])]
