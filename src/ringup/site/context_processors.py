from django.conf import settings


def operator(request):
    """The operator's name, public address and sales contacts, for every page."""
    return {
        "operator_name": settings.OPERATOR_NAME,
        "public_url": settings.PUBLIC_URL,
        "sales_email": settings.SALES_EMAIL,
        "sales_phone": settings.SALES_PHONE,
    }
