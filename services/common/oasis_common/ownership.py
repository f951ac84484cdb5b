"""Views of one owned object: the caller's object is loaded before anything else the request carries.

Another user's object is a 404 whatever the body, query or headers say: validating first
would answer them a 400, which tells them the object exists, and would parse and judge
input for an object they may not touch.
"""

from __future__ import annotations


# Comments, not a docstring: drf-spectacular would show an inherited docstring on every operation.
class OwnedObjectMixin:
    # For an APIView whose URL names an owned object. `load_owned` runs after authentication,
    # permissions and throttling, before the handler reads the request: it receives the URL's
    # keyword arguments, keeps what it loads on the view (`self.project`, `self.generation`),
    # and raises NotFound for another owner's object.

    def load_owned(self, request, **url_kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define load_owned()")

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.load_owned(request, **kwargs)
