from django.conf import settings


def operator(request):
    """The operator's name and public address, for page headers and footers."""
    return {"operator_name": settings.OPERATOR_NAME, "public_url": settings.PUBLIC_URL}
