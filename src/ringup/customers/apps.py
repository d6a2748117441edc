from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "ringup.customers"
    verbose_name = "Customers (CRM)"
