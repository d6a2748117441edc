from django.conf import settings


def operator(request):
    """The operator's name, public address, sales contacts and how long e-mailed links
    work, for every page."""
    return {
        "operator_name": settings.OPERATOR_NAME,
        "public_url": settings.PUBLIC_URL,
        "sales_email": settings.SALES_EMAIL,
        "sales_phone": settings.SALES_PHONE,
        "expiration_days": settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS,
    }
