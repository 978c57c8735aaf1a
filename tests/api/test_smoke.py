from tests.support import Family


async def test_member_sees_family_chat(family: Family) -> None:
    anna = await family.member("anna")
    chats = await anna.chats()
    assert [c.type for c in chats] == ["family"]
    assert chats[0].participant_ids == [anna.user_id]
