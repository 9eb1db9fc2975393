"""The window's library lifecycle as one state enum and the table of the transitions it may take."""

# No Qt here: the table is plain data, so it is tested (and read) without a window.

from __future__ import annotations

from enum import Enum


class LibraryState(Enum):
    """Where the window's library is in its life; only READY answers questions.

    Opening a library is followed by two steps that run side by side: preparing it (seeding the
    default library, a rebuild after a manifest change, pending embeddings: an indexing run) and
    loading the models. STARTING, PREPARING and LOADING_MODELS say which of the two is left.
    """

    NO_LIBRARY = "no library"  # nothing asked for yet
    OPENING = "opening"  # a library is being opened (also after renaming or deleting the open one)
    STARTING = "starting"  # open; the library is being prepared and the models are loading
    PREPARING = "preparing"  # open, the models are loaded; the library is still being prepared
    LOADING_MODELS = "loading models"  # open and prepared; the models are still loading
    READY = "ready"  # open, prepared and the models loaded: questions are answered
    MODELS_FAILED = "models failed"  # open (documents can be listed and added) but no answers
    OPEN_FAILED = "open failed"  # the library could not be opened
    CLOSED = "closed"  # the window is closing: nothing starts any more

    @property
    def is_open(self) -> bool:
        """Return True when an engine is open (its documents can be listed and changed)."""
        return self in _OPEN

    @property
    def is_loading(self) -> bool:
        """Return True while opening or getting ready (a question waits for READY)."""
        return self in _LOADING


class Event(Enum):
    """What happens to the library; each moves it through TRANSITIONS."""

    OPEN = "open"  # a library is asked for (start, switch, create, rename or delete the open one)
    OPENED = "opened"
    OPEN_FAILED = "open failed"
    PREPARED = "prepared"  # the preparing run ended (done, cancelled or failed: it was tried)
    MODELS_LOADED = "models loaded"
    MODELS_FAILED = "models failed"
    STOP = "stop"


_S = LibraryState
_OPEN = frozenset({_S.STARTING, _S.PREPARING, _S.LOADING_MODELS, _S.READY, _S.MODELS_FAILED})
_LOADING = frozenset({_S.OPENING, _S.STARTING, _S.PREPARING, _S.LOADING_MODELS})

TRANSITIONS: dict[tuple[LibraryState, Event], LibraryState] = {
    # Another library can be asked for at any time until the window closes.
    **{(state, Event.OPEN): _S.OPENING for state in _S if state is not _S.CLOSED},
    **{(state, Event.STOP): _S.CLOSED for state in _S},
    (_S.OPENING, Event.OPENED): _S.STARTING,
    (_S.OPENING, Event.OPEN_FAILED): _S.OPEN_FAILED,
    (_S.STARTING, Event.PREPARED): _S.LOADING_MODELS,
    (_S.STARTING, Event.MODELS_LOADED): _S.PREPARING,
    (_S.STARTING, Event.MODELS_FAILED): _S.MODELS_FAILED,
    (_S.PREPARING, Event.PREPARED): _S.READY,
    (_S.LOADING_MODELS, Event.MODELS_LOADED): _S.READY,
    (_S.LOADING_MODELS, Event.MODELS_FAILED): _S.MODELS_FAILED,
    (
        _S.MODELS_FAILED,
        Event.PREPARED,
    ): _S.MODELS_FAILED,  # the documents are ready; still no models
}


class IllegalTransition(RuntimeError):
    """An event that the library's current state does not allow: a programming error."""


def next_state(state: LibraryState, event: Event) -> LibraryState:
    """Return the state ``event`` moves ``state`` to; raise IllegalTransition when it may not."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(
            f"{event.value!r} is not allowed in state {state.value!r}"
        ) from None
