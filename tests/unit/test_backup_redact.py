"""Configuration redaction (issue 22): a corpus of realistic RouterOS, IOS and VRP configs
with secrets; after saving every one through the real repository, no secret is anywhere in
the git history (``git log -p --all``, every blob), and the key words stay readable."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from agent.backup.redact import redact_config
from agent.backup.repo import ConfigRepo
from agent.redaction import MASK

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

# (platform, config) with every secret written as S_<something>_S so the test can find them
ROUTEROS = """\
# 2026-12-03 01:00:04 by RouterOS 7.14.3
# software id = 4XK2-9TQ1
/interface wireless security-profiles
add authentication-types=wpa2-psk mode=dynamic-keys name=kantor supplicant-identity="" \\
    wpa2-pre-shared-key=S_wifikey1_S
set [ find default=yes ] wpa-pre-shared-key=S_wpa1_S wpa2-pre-shared-key="S_quoted wifi_S"
/interface wifi security add name=sec7 passphrase=S_passphrase7_S authentication-types=wpa3-psk
/interface l2tp-client add connect-to=10.0.0.1 name=l2tp-out1 password=S_l2tp_S user=kantor
/ip ipsec peer add address=103.10.1.1/32 name=dinas secret=S_ipsecpeer_S
/ip ipsec identity add peer=dinas secret="S_ipsec id_S"
/ppp secret add name=opd-pkm password=S_pppsecret_S profile=default-encryption service=pppoe
/radius add address=10.1.1.5 secret=S_radius_S service=login
/snmp community set [ find default=yes ] name=S_rocommunity_S
/snmp community add addresses=10.1.0.0/16 name=S_v3user_S authentication-password=S_snmpauth_S \\
    authentication-protocol=SHA1 encryption-password=S_snmppriv_S encryption-protocol=AES
/interface wireguard add listen-port=13231 name=wg0 private-key="S_wgprivate=_S"
/routing ospf interface-template add area=backbone auth=md5 auth-key=S_ospfkey_S
/system identity set name=pkm-praya
"""
IOS = """\
Building configuration...

Current configuration : 2211 bytes
!
hostname core-sw1
!
enable secret 5 $1$S_enablehash1_S
enable password 7 S_enable7_S
username admin privilege 15 secret 9 $9$S_userhash9_S
username teknisi password 7 S_user7_S
!
key chain OSPF
 key 1
  key-string 7 S_keystring_S
!
crypto isakmp key S_isakmpkey_S address 103.10.1.1
crypto isakmp policy 10
!
interface GigabitEthernet0/1
 ip ospf message-digest-key 1 md5 S_ospfmd5_S
 ppp chap password 0 S_chap_S
!
router bgp 65001
 neighbor 10.0.0.2 password S_bgppw_S
!
dot11 ssid KANTOR
 wpa-psk ascii 0 S_wpapsk_S
!
snmp-server community S_ro_S RO
snmp-server community S_rw_S RW 10
snmp-server user monitor grp v3 auth sha S_v3auth_S priv aes 128 S_v3priv_S
tacacs-server key 7 S_tacacs_S
radius-server key S_radiuskey_S
!
line vty 0 4
 password 7 S_vty_S
end
"""
VRP = """\
!Software Version V200R019C10SPC500
!Last configuration was updated at 2026-12-03 01:00:04+08:00
#
sysname pkm-sw
#
aaa
 local-user admin password irreversible-cipher $1a$S_vrplocal_S$
 local-user ops password cipher %^%#S_vrpcipher_S%^%#
#
snmp-agent community read cipher %^%#S_vrpcomm_S%^%#
snmp-agent usm-user v3 nms authentication-mode sha cipher S_vrpauth_S
snmp-agent usm-user v3 nms privacy-mode aes128 cipher S_vrppriv_S
#
ike peer dinas
 pre-shared-key cipher S_vrpike_S
#
wlan
 security-profile name kantor
  security wpa2 psk pass-phrase S_vrpwifi_S aes
#
user-interface vty 0 4
 set authentication password simple S_vrpsimple_S
#
return
"""
CORPUS = {"ros": ROUTEROS, "ios": IOS, "vrp": VRP}
KNOWN = ("S_known ssh pw_S",)  # what the inventory knows, appearing where no rule looks
KEYWORDS = (
    "wpa2-pre-shared-key=", "passphrase=", "secret=", "password=", "auth-key=", "key-string 7",
    "snmp-server community", "enable secret 5", "local-user admin password",
)  # fmt: skip


def secrets_in(text: str) -> set[str]:
    found, rest = set(), text
    while "S_" in rest:
        start = rest.index("S_")
        end = rest.find("_S", start + 2)
        if end < 0:
            break
        found.add(rest[start : end + 2])
        rest = rest[end + 2 :]
    return found


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_secret_of_a_config_is_masked(name: str) -> None:
    text = CORPUS[name] + "/system note set note=" + KNOWN[0] + "\n"
    assert secrets_in(text)  # the corpus does carry secrets
    out = redact_config(text, KNOWN)
    left = [s for s in secrets_in(text) if s in out]
    assert left == [], out
    assert MASK in out


def test_key_words_and_plain_lines_stay_readable() -> None:
    out = redact_config("\n".join(CORPUS.values()))
    for word in KEYWORDS:
        assert word in out, word
    for plain in ("/system identity set name=pkm-praya", "hostname core-sw1", "sysname pkm-sw",
                  "interface GigabitEthernet0/1", "crypto isakmp policy 10"):  # fmt: skip
        assert plain in out


def test_no_secret_anywhere_in_the_repository_history(tmp_path: Path) -> None:
    repo = ConfigRepo(tmp_path / "repo")
    at = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    everything = set()
    for name, text in CORPUS.items():
        full = text + "/system note set note=" + KNOWN[0] + "\n"
        everything |= secrets_in(full)
        assert repo.save_blocking(name, redact_config(full, KNOWN), at=at, trigger="jadwal")
        changed = full.replace("S_", "S_new", 3)  # a changed secret: a second commit
        everything |= secrets_in(changed)
        repo.save_blocking(name, redact_config(changed, KNOWN), at=at, trigger="jadwal")
    git = ["git", "-C", str(tmp_path / "repo")]
    log = subprocess.run([*git, "log", "-p", "--all"], capture_output=True, text=True, check=True)
    objects = subprocess.run(
        [*git, "cat-file", "--batch-all-objects", "--batch"], capture_output=True, check=True
    ).stdout.decode("utf-8", "replace")
    assert log.stdout
    assert objects
    for secret in everything:
        assert secret not in log.stdout, secret
        assert secret not in objects, secret
