"""Conversations: many per project, each with its own messages and runs, each the only context of its runs."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.models import LanguageModel
from generations import context, model_stream
from generations.models import Conversation, Generation, Message, Status
from tests.conftest import client_for
from tests.test_runner import run, start

BASE = "/api/v1/builder"


@pytest.fixture
def project(fakes, user_id):
    projects, _ = fakes
    return projects.add(user_id)


def conversations_url(project_id) -> str:
    return f"{BASE}/projects/{project_id}/conversations/"


def create(api, project_id, **body):
    response = api.post(conversations_url(project_id), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def finish(generation_id) -> None:
    Generation.objects.filter(pk=generation_id).update(status=Status.DONE)


def test_a_conversation_is_started_named_and_listed(db, demo_catalog, api, project):
    created = create(api, project, title="  Landing page  ")
    untitled = create(api, project)

    listed = api.get(conversations_url(project)).json()["results"]

    assert created["title"] == "Landing page"
    assert (created["archived"], created["archived_at"]) == (False, None)
    assert created["project_id"] == str(project)
    assert untitled["title"] == ""
    assert [c["id"] for c in listed] == [untitled["id"], created["id"]]


def test_the_first_run_starts_a_conversation_named_after_its_prompt(db, demo_catalog, api, project):
    response = api.post(
        f"{BASE}/projects/{project}/generations/", {"prompt": "A  bakery\nin Lisbon"}, format="json"
    )

    conversation = Conversation.objects.get()
    assert response.json()["conversation_id"] == str(conversation.id)
    assert conversation.title == "A bakery in Lisbon"
    assert Message.objects.get().conversation_id == conversation.id


def test_a_run_goes_in_the_conversation_named_else_the_latest(db, demo_catalog, api, project):
    older = create(api, project, title="older")
    newer = create(api, project, title="newer")

    named = api.post(
        f"{BASE}/projects/{project}/generations/",
        {"prompt": "hi", "conversation": older["id"]},
        format="json",
    ).json()
    finish(named["id"])
    default = api.post(f"{BASE}/projects/{project}/generations/", {"prompt": "again"}, format="json").json()

    assert named["conversation_id"] == older["id"]
    # Running in it made the older one the latest: the next run without a name goes there.
    assert default["conversation_id"] == older["id"]
    listed = api.get(conversations_url(project)).json()["results"]
    assert [c["id"] for c in listed] == [older["id"], newer["id"]]


def test_the_model_sees_only_its_conversations_messages(demo, fakes, user_id, monkeypatch):
    projects, _ = fakes
    project_id = projects.add(user_id)
    api = client_for(user_id)
    first = run(start(user_id, project_id, prompt="a bakery called Crumb", mode="chat")["id"])
    other = create(api, project_id, title="pricing")
    sent = []
    real_open = model_stream.open_stream

    def spy(client, **kwargs):
        sent.append([m.get("content") or "" for m in kwargs["messages"]])
        return real_open(client, **kwargs)

    monkeypatch.setattr(model_stream, "open_stream", spy)
    run(
        start(user_id, project_id, prompt="what should a loaf cost?", mode="chat", conversation=other["id"])[
            "id"
        ]
    )
    run(
        start(
            user_id,
            project_id,
            prompt="and the opening hours?",
            mode="chat",
            conversation=str(first.conversation_id),
        )["id"]
    )

    in_other, in_first = sent[0], sent[-1]
    assert not any("Crumb" in content for content in in_other)
    assert any("Crumb" in content for content in in_first)
    assert not any("loaf cost" in content for content in in_first)


def test_history_is_the_conversations_without_the_run_itself(db, demo_catalog, api, project, user_id):
    one = create(api, project)
    two = create(api, project)
    for conversation, prompt in ((one, "first"), (two, "second"), (one, "third")):
        response = api.post(
            f"{BASE}/projects/{project}/generations/",
            {"prompt": prompt, "conversation": conversation["id"]},
            format="json",
        )
        finish(response.json()["id"])
    third = Generation.objects.get(prompt="third")

    assert context.history_of(user_id=user_id, project_id=project, before=third) == [("user", "first")]
    assert context.history_of(user_id=user_id, project_id=project, conversation_id=two["id"]) == [
        ("user", "second")
    ]


def test_renaming_archiving_and_unarchiving(db, demo_catalog, api, project):
    conversation = create(api, project)
    url = f"{BASE}/conversations/{conversation['id']}/"

    renamed = api.patch(url, {"title": "Checkout"}, format="json").json()
    archived = api.patch(url, {"archived": True}, format="json").json()
    active_list = api.get(conversations_url(project)).json()["results"]
    archived_list = api.get(conversations_url(project), {"archived": "true"}).json()["results"]
    back = api.patch(url, {"archived": False}, format="json").json()

    assert renamed["title"] == "Checkout"
    assert archived["archived"] is True
    assert archived["archived_at"]
    assert active_list == []
    assert [c["id"] for c in archived_list] == [conversation["id"]]
    assert (back["archived"], back["title"]) == (False, "Checkout")


def test_a_run_in_an_archived_conversation_is_refused_and_nothing_is_held(
    db, demo_catalog, fakes, api, project
):
    _, payments = fakes
    conversation = create(api, project)
    api.patch(f"{BASE}/conversations/{conversation['id']}/", {"archived": True}, format="json")

    response = api.post(
        f"{BASE}/projects/{project}/generations/",
        {"prompt": "hi", "conversation": conversation["id"]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conversation_archived"
    assert Generation.objects.count() == 0
    assert payments.holds == {}


def test_another_projects_or_users_conversation_is_not_found_for_a_run(
    db, demo_catalog, fakes, api, project, user_id, other_user_id
):
    projects, payments = fakes
    elsewhere = create(api, projects.add(user_id))
    theirs_project = projects.add(other_user_id)
    theirs = create(client_for(other_user_id), theirs_project)

    for conversation in (elsewhere, theirs):
        response = api.post(
            f"{BASE}/projects/{project}/generations/",
            {"prompt": "hi", "conversation": conversation["id"]},
            format="json",
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    estimate = api.post(
        f"{BASE}/estimate/",
        {"project_id": project, "prompt": "hi", "conversation": theirs["id"]},
        format="json",
    )
    assert estimate.status_code == 404
    assert Generation.objects.count() == 0
    assert payments.holds == {}


def test_deleting_waits_for_its_run_then_takes_its_messages_and_runs_not_the_revisions(
    db, demo_catalog, fakes, api, project
):
    projects, _ = fakes
    generation = api.post(f"{BASE}/projects/{project}/generations/", {"prompt": "hi"}, format="json").json()
    url = f"{BASE}/conversations/{generation['conversation_id']}/"
    applied_before = list(projects.applied)

    busy = api.delete(url)
    finish(generation["id"])
    deleted = api.delete(url)

    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "conversation_busy"
    assert deleted.status_code == 204
    assert api.get(url).status_code == 404
    assert Generation.objects.count() == Message.objects.count() == 0
    assert list(projects.applied) == applied_before


def test_a_conversations_messages_are_its_own_with_their_runs_in_few_queries(
    db, demo_catalog, api, project, django_assert_num_queries
):
    one = create(api, project)
    two = create(api, project)
    for conversation in (one, two, one):
        response = api.post(
            f"{BASE}/projects/{project}/generations/",
            {"prompt": "p", "conversation": conversation["id"]},
            format="json",
        )
        finish(response.json()["id"])

    with django_assert_num_queries(3):
        response = api.get(f"{BASE}/conversations/{one['id']}/messages/")

    messages = response.json()["results"]
    assert len(messages) == 2
    assert {m["conversation_id"] for m in messages} == {one["id"]}


def test_existing_runs_and_messages_become_one_conversation_per_project(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate([("generations", "0004_attempt")])
    old = executor.loader.project_state([("generations", "0004_attempt")]).apps
    # The catalog is not migrated back: its model of today is the one its table has.
    catalog = LanguageModel.objects.create(
        slug="m",
        display_name="m",
        upstream_model="m",
        context_window=1000,
        max_output_tokens=100,
        input_price=1,
        output_price=1,
    )
    user, project_a, project_b = (
        "00000000-0000-0000-0000-00000000000a",
        "00000000-0000-0000-0000-0000000000a1",
        "00000000-0000-0000-0000-0000000000b1",
    )
    OldGeneration, OldMessage = (
        old.get_model("generations", "Generation"),
        old.get_model("generations", "Message"),
    )
    for project_id in (project_a, project_a, project_b):
        generation = OldGeneration.objects.create(
            user_id=user, project_id=project_id, model_id=catalog.pk, prompt="p", status="done"
        )
        OldMessage.objects.create(
            user_id=user, project_id=project_id, generation=generation, role="user", content="p"
        )

    executor = MigrationExecutor(connection)
    executor.migrate([("generations", "0005_conversations")])
    new = executor.loader.project_state([("generations", "0005_conversations")]).apps
    conversations = new.get_model("generations", "Conversation").objects.all()

    assert sorted(str(c.project_id) for c in conversations) == [project_a, project_b]
    for model in ("Generation", "Message"):
        rows = new.get_model("generations", model).objects.all()
        assert all(row.conversation_id is not None for row in rows)
        assert len({row.conversation_id for row in rows if str(row.project_id) == project_a}) == 1
    # The tests after this one expect the schema of today.
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes("generations"))


# ---- rewinding ----


def messages_of(api, conversation_id) -> list[dict]:
    return api.get(f"{BASE}/conversations/{conversation_id}/messages/").json()["results"]


def rewind_url(conversation_id, message_id) -> str:
    return f"{BASE}/conversations/{conversation_id}/messages/{message_id}/rewind/"


def test_rewinding_restores_the_files_before_that_run_and_hides_it_and_what_came_after(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    api = client_for(user_id)
    first = run(start(user_id, project_id)["id"])
    second = run(start(user_id, project_id, prompt="change the title to Pastelaria")["id"])
    files_after_first = dict(projects.projects[project_id].history[first.revision])
    conversation = str(first.conversation_id)
    prompt = next(m for m in messages_of(api, conversation) if m["generation_id"] == str(second.id))

    response = api.post(rewind_url(conversation, prompt["id"]))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "prompt": "change the title to Pastelaria",
        "revision": second.revision + 1,
        "restored": True,
        "hidden": 2,
    }
    assert projects.projects[project_id].files == files_after_first
    listed = messages_of(api, conversation)
    assert [m["hidden_at"] is not None for m in listed] == [False, False, True, True]
    history = context.history_of(
        user_id=user_id, project_id=project_id, conversation_id=first.conversation_id
    )
    assert [role for role, _ in history] == ["user", "assistant"]


def test_rewinding_again_makes_nothing_new(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    api = client_for(user_id)
    first = run(start(user_id, project_id)["id"])
    conversation = str(first.conversation_id)
    prompt = messages_of(api, conversation)[0]

    once = api.post(rewind_url(conversation, prompt["id"])).json()
    again = api.post(rewind_url(conversation, prompt["id"])).json()

    assert (once["restored"], once["hidden"]) == (True, 2)
    assert (again["restored"], again["hidden"], again["revision"]) == (False, 0, once["revision"])
    assert len(projects.restored) == 1


def test_rewinding_waits_for_the_conversations_run(db, demo_catalog, fakes, api, project):
    projects, _ = fakes
    generation = api.post(f"{BASE}/projects/{project}/generations/", {"prompt": "hi"}, format="json").json()
    prompt = messages_of(api, generation["conversation_id"])[0]

    response = api.post(rewind_url(generation["conversation_id"], prompt["id"]))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conversation_busy"
    assert projects.restored == []
    assert Message.objects.filter(hidden_at__isnull=False).count() == 0


def test_another_conversations_or_users_message_is_not_found(
    db, demo_catalog, fakes, api, project, other_user_id
):
    projects, _ = fakes
    one = api.post(f"{BASE}/projects/{project}/generations/", {"prompt": "hi"}, format="json").json()
    finish(one["id"])
    other = create(api, project)
    message = messages_of(api, one["conversation_id"])[0]

    wrong_conversation = api.post(rewind_url(other["id"], message["id"]))
    stranger = client_for(other_user_id).post(rewind_url(one["conversation_id"], message["id"]))

    assert wrong_conversation.status_code == stranger.status_code == 404
    assert projects.restored == []
