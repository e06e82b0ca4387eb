"""The local web app (``zi2zi ui``): projects on disk, background jobs, and pages over the library.

The app is a FastAPI service with one static page; every action is a JSON call. Long work
(fine-tuning, generating, exporting, scanning) runs in a separate worker process per project, so
the page never waits on it and a closed tab or a restarted app loses nothing.
"""

from zi2zi.ui.errors import UiError

__all__ = ["UiError"]
