"""The bases of the builder's views of one project or one generation: the caller's object, loaded first."""

from __future__ import annotations

from rest_framework.views import APIView

from generations import conversations, lifecycle, peers
from generations.models import Conversation, Generation
from oasis_common.ownership import OwnedObjectMixin

# No class docstrings: the schema generator would give them to every operation of every subclass.


class OwnedProjectView(OwnedObjectMixin, APIView):
    # The caller's project named by the URL, its metadata as projects answered it. Projects decides
    # ownership; another user's project is a 404 before the body is validated or a model looked up.
    project: dict

    def load_owned(self, request, *, project_id, **url_kwargs) -> None:
        self.project = peers.project_get(project_id=project_id, owner_id=request.user.id)


class OwnedConversationView(OwnedObjectMixin, APIView):
    # The caller's conversation named by the URL; another user's is a 404 before the request is read.
    conversation: Conversation

    def load_owned(self, request, *, conversation_id, **url_kwargs) -> None:
        self.conversation = conversations.conversation_get(
            user_id=request.user.id, conversation_id=conversation_id
        )


class OwnedGenerationView(OwnedObjectMixin, APIView):
    # The caller's generation named by the URL; another user's is a 404 before the request is read.
    generation: Generation

    def load_owned(self, request, *, generation_id, **url_kwargs) -> None:
        self.generation = lifecycle.generation_get(user_id=request.user.id, generation_id=generation_id)
