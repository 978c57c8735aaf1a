"""An admin creates an invitation in the UI; a new member joins through its link."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, shot, sign_in

pytestmark = pytest.mark.browser


def test_admin_invites_a_member_who_joins_by_link(
    live_server: Any, new_page: Any, member: Any
) -> None:
    admin = member("admin", admin=True, display_name="Grandma Admin")
    page = new_page(viewport=DESKTOP)
    sign_in(page, admin["username"], admin["password"])
    page.get_by_role("button", name="Administration").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()

    page.get_by_label("Number of uses").fill("1")
    page.get_by_label("Expires in").select_option("7d")
    page.get_by_role("button", name="Create invitation").click()
    invite = page.locator(".invite.new")
    expect(invite).to_be_visible()
    code = invite.get_attribute("data-code")
    assert code
    expect(invite).to_contain_text("0 of 1 used")

    invite.get_by_role("button", name="Show QR code").click()
    qr = page.get_by_role("dialog", name="Show QR code")
    expect(qr.get_by_role("img")).to_be_visible()
    expect(qr).to_contain_text(f"{live_server.url}/join/{code}")
    qr.get_by_role("button", name="Close").click()
    shot(page, "desktop-admin-light.png")

    newcomer = new_page(viewport=PHONE, path=f"/join/{code}")
    expect(newcomer.get_by_label("Invitation code")).to_have_value(code)
    newcomer.get_by_label("Username").fill(f"cousin_{code[:4].lower()}")
    newcomer.get_by_label("Password").fill("family-pass-1")
    newcomer.get_by_label("Display name (optional)").fill("Cousin Vanya")
    newcomer.get_by_role("button", name="Join the family").click()
    expect(newcomer.get_by_role("heading", name="Chats")).to_be_visible()
    expect(newcomer.locator(".chat-item", has_text="Family")).to_be_visible()

    # The admin sees the new member arrive.
    page.get_by_role("tab", name="Members").click()
    expect(page.get_by_role("tabpanel")).to_contain_text("Cousin Vanya")
    shot(page, "desktop-members-light.png")

    # Reset the newcomer's password, then deactivate the account: the newcomer is signed out.
    page.get_by_role("button", name="Reset password: Cousin Vanya").click()
    page.get_by_label("New password for Cousin Vanya").fill("brand-new-pass")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Password reset")).to_be_visible()
    page.get_by_role("button", name="Deactivate: Cousin Vanya").click()
    dialog = page.get_by_role("dialog", name="Deactivate")
    expect(dialog).to_contain_text("Deactivate Cousin Vanya?")
    dialog.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".person-row", has_text="Cousin Vanya")).to_contain_text("deactivated")
    # Their sessions end with the reset (or the deactivation): back to the sign-in form, and
    # signing in again is refused with a clear message.
    expect(newcomer.get_by_role("button", name="Sign in")).to_be_visible()
    newcomer.get_by_label("Username").fill(f"cousin_{code[:4].lower()}")
    newcomer.get_by_label("Password").fill("brand-new-pass")
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer.get_by_role("alert")).to_have_text("This account has been deactivated.")

    # The same link cannot be used twice.
    late = new_page(viewport=PHONE, path=f"/join/{code}")
    late.get_by_label("Username").fill(f"late_{code[:4].lower()}")
    late.get_by_label("Password").fill("family-pass-1")
    late.get_by_role("button", name="Join the family").click()
    expect(late.get_by_role("alert")).to_have_text("This invitation has already been used.")

    # Revoking another invitation.
    page.get_by_role("tab", name="Invitations").click()
    page.get_by_role("button", name="Create invitation").click()
    fresh = page.locator(".invite.new")
    expect(fresh).not_to_have_attribute("data-code", code)
    fresh_code = fresh.get_attribute("data-code")
    fresh.get_by_role("button", name="Revoke").click()
    expect(page.locator(f'.invite[data-code="{fresh_code}"]')).to_contain_text("revoked")
    revoked = new_page(viewport=PHONE, path=f"/join/{fresh_code}")
    revoked.get_by_label("Username").fill(f"nope_{code[:4].lower()}")
    revoked.get_by_label("Password").fill("family-pass-1")
    revoked.get_by_role("button", name="Join the family").click()
    expect(revoked.get_by_role("alert")).to_have_text("This invitation has been revoked.")
