"""Password hashes: argon2id with one lane; older hashes still sign in and are replaced."""

from __future__ import annotations

from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from inner_circle.server.security import PasswordService
from tests.support import FAST_HASHING

MEMORY, TIME = FAST_HASHING["argon2_memory_kib"], FAST_HASHING["argon2_time_cost"]


async def test_new_hashes_use_one_lane_and_verify_without_a_rehash() -> None:
    passwords = PasswordService(MEMORY, TIME)
    stored = await passwords.hash("secret-pw")
    assert stored.startswith("$argon2id$") and ",p=1$" in stored
    assert await passwords.verify("secret-pw", stored) == (True, None)
    assert await passwords.verify("wrong-pw", stored) == (False, None)


async def test_four_lane_and_seed_bcrypt_hashes_verify_and_are_replaced() -> None:
    passwords = PasswordService(MEMORY, TIME)
    four_lanes = Argon2Hasher(memory_cost=MEMORY, time_cost=TIME).hash("secret-pw")
    seed = BcryptHasher(rounds=4).hash("secret-pw")
    for old in (four_lanes, seed):
        valid, replacement = await passwords.verify("secret-pw", old)
        assert valid and replacement is not None and ",p=1$" in replacement
        assert await passwords.verify("wrong-pw", old) == (False, None)
    assert passwords.in_progress == 0
