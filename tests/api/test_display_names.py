"""Display names cannot hide or pose as another member; invisible text is not content."""

from __future__ import annotations

import httpx
import pytest

from inner_circle.sdk.errors import BadRequest, ConflictError
from tests.support import PASSWORD, Family

RLO, ZWSP, LRM, WJ = "\u202e", "\u200b", "\u200e", "\u2060"


async def test_display_names_are_stored_without_invisible_characters(family: Family) -> None:
    anna = await family.member("anna")
    updated = await anna.update_profile(f"{RLO}Ann{ZWSP}a  Karenina{LRM}")
    assert updated.display_name == "Anna Karenina"
    assert (await anna.profile()).display_name == "Anna Karenina"
    for invisible in (ZWSP, f"{RLO}{LRM}", "\u3164", " \u200d "):
        with pytest.raises(BadRequest) as refused:
            await anna.update_profile(invisible)
        assert refused.value.code == "VALIDATION_FAILED"
    assert (await anna.profile()).display_name == "Anna Karenina"


async def test_a_display_name_cannot_copy_another_members_name(family: Family) -> None:
    anna = await family.member("anna")
    await anna.update_profile("Анна")
    boris = await family.member("boris")
    for copy in ("Анна", "АННА", f"{RLO}анна", f"Ан{ZWSP}на", "anna", "ＡＮＮＡ", " Anna "):
        with pytest.raises(ConflictError) as refused:
            await boris.update_profile(copy)
        assert refused.value.code == "DISPLAY_NAME_TAKEN", copy
        assert refused.value.status == 409
    assert (await boris.profile()).display_name == "boris"
    # One's own username in another case is one's own name, and a distinct name is fine.
    assert (await boris.update_profile("Boris")).display_name == "Boris"
    assert (await anna.update_profile("ANNA")).display_name == "ANNA"
    assert (await boris.update_profile("Boris Petrov")).display_name == "Boris Petrov"


async def test_registration_refuses_a_copied_name_and_stores_nothing(family: Family) -> None:
    anna = await family.member("anna")
    await anna.update_profile("Grandma")
    code = await family.invite()
    newcomer = family.client()
    with pytest.raises(ConflictError) as refused:
        await newcomer.register("carl", PASSWORD, code, display_name=f"{LRM}ANNA")
    assert refused.value.code == "DISPLAY_NAME_TAKEN"
    # Without a display name the username is shown, and it may not copy one either.
    with pytest.raises(ConflictError) as refused:
        await newcomer.register("grandma", PASSWORD, code)
    assert refused.value.code == "DISPLAY_NAME_TAKEN"
    # Nothing was stored: the same single-use code still works.
    joined = await newcomer.register("carl", PASSWORD, code, display_name=f"Carl{ZWSP}")
    assert joined.display_name == "Carl"
    names = {m.username for m in await anna.members(include_self=True)}
    assert names == {"anna", "carl"}


async def test_invisible_message_content_is_refused(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    chat = await anna.family_chat()
    headers = {"Authorization": f"Bearer {anna.access_token}"}
    async with httpx.AsyncClient(base_url=family.url, headers=headers) as http:
        for blank in (ZWSP, f"{ZWSP}{WJ} {LRM}", "\u2800\n"):
            response = await http.post(f"/messages/{chat.id}", json={"content": blank})
            assert response.status_code == 400, repr(blank)
            assert response.json()["code"] == "VALIDATION_FAILED"
    assert anna.sio is not None
    ack = await anna.sio.call("sendMessage", {"chatId": str(chat.id), "content": ZWSP}, timeout=10)
    assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_FAILED"
    # Visible text keeps its joiners and direction marks: emoji and right-to-left scripts need them.
    family_emoji = "👨\u200d👩\u200d👧"
    kept = await anna.post_message(chat.id, family_emoji)
    hebrew = await anna.post_message(chat.id, f"שלום{LRM}!")
    ack = await anna.sio.call(
        "editMessage",
        {"chatId": str(chat.id), "messageId": str(kept.id), "content": f"{ZWSP}{WJ}"},
        timeout=10,
    )
    assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_FAILED"
    with pytest.raises(BadRequest):
        await anna.edit_message(chat.id, kept.id, ZWSP)
    stored = [m.content for m in await anna.history(chat.id)]
    assert stored == [family_emoji, hebrew.content] and hebrew.content == f"שלום{LRM}!"
