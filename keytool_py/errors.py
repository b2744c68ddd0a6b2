"""The errors ktpy raises: one base class, a few kinds a caller may want to tell apart.

Every message is one sentence a user can act on. Messages never contain a password.
"""


class KtpyError(Exception):
    """Base class: something ktpy was asked to do could not be done."""


class BadInputError(KtpyError, ValueError):
    """Input that is not what it claims to be: garbage PEM, a corrupted store, a bad subject."""


class WrongPasswordError(KtpyError):
    """A password did not open a key or a store."""


class MismatchError(BadInputError):
    """A private key and a certificate that should belong together do not."""


class UnsupportedError(KtpyError):
    """Something valid that ktpy (or Java) cannot handle, such as a non-ASCII JCEKS password."""


class OutputExistsError(KtpyError):
    """A file ktpy would write already exists and replacing it was not asked for."""


class VerificationError(KtpyError):
    """A check ran and found problems."""
