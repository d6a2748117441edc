"""Back office: self-service sign-ups (the leads), with what they asked for and how far
they got."""

from django.contrib import admin

from .models import Signup


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "phone",
        "plan",
        "period",
        "source",
        "promo_code",
        "referral_code",
        "created_at",
        "phone_verified_at",
        "email_verified_at",
        "customer",
        "subscription",
    ]
    list_filter = ["source", "plan", "language"]
    search_fields = ["email", "phone", "promo_code", "referral_code"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Signup._meta.fields]

    def has_add_permission(self, request):
        return False  # sign-ups are made by visitors, on the site or through the API
