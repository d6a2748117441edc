"""The back office's carrier deck import form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import WINDOWS

MAX_DECK_BYTES = 20 * 1024 * 1024


class DeckImportForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100)
    effective_from = forms.DateField(
        label=_("Effective from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deck = forms.FileField(
        label=_("Deck CSV"),
        help_text=_(
            "prefix,rate,connect_fee,first_increment,increment[,description][,min_duration]"
        ),
    )
    days = forms.TypedChoiceField(
        label=_("Re-cost the last"),
        choices=[(days, _("%(days)s days") % {"days": days}) for days in WINDOWS],
        coerce=int,
        initial=WINDOWS[0],
    )

    def clean_deck(self):
        deck = self.cleaned_data["deck"]
        if deck.size > MAX_DECK_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return deck
