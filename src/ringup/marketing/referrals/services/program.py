"""Changing the program's terms."""

from django.core.exceptions import ValidationError

from ringup.engine.pricing import SelectionError

from ..models import ReferralProgram


def update_program(program: ReferralProgram, changes: dict) -> ReferralProgram:
    """Apply ``changes`` (field → value) to the program and save it; raises
    :class:`ProgramError` naming the field for a bad value (nothing is saved then)."""
    for field, value in changes.items():
        setattr(program, field, value)
    try:
        program.full_clean()
    except ValidationError as error:
        raise ProgramError(
            {field: " ".join(messages) for field, messages in error.message_dict.items()}
        ) from None
    program.save()
    return program


class ProgramError(SelectionError):
    """A program setting that cannot be saved; ``errors`` names the field."""
