"""The mail folder in the back office. Messages live as files, not rows: the model only
gives the admin a place and a permission ("view mail folder")."""

from django.db import models


class MailMessage(models.Model):
    class Meta:
        managed = False  # no table: the admin lists the files of the mail folder
        verbose_name = "mail folder"
        verbose_name_plural = "mail folder"
        default_permissions = ("view",)

    def __str__(self):
        return "mail folder"
