"""What each real-device recording in ``../shared/devices`` holds, written by reading the files.

One dict per recording (the file name without ``.snmprec``), so other columns (health,
radio, ...) can be added per device. Keys used now:

- ``platform``: (vendor, model, OS, version, netmiko device type) as ``collectors.platform``
  must detect it: from sysObjectID/sysDescr, the entPhysical chassis row, MIKROTIK-MIB
  ``mtxrLicVersion``, FORTINET ``fgSysVersion``, TPLINK-SYSINFO-MIB, RMON2 ``probe*Rev``,
  UBNT-UniFi-MIB and IEEE802dot11-MIB values, as ``SOURCES.md`` there lists them.
- ``interfaces``: how many ifIndexes have an ifAdminStatus or ifOperStatus row.
- ``names``: some ifIndex -> ifName (ifDescr where the file has no ifName) worth checking:
  user comments, PPP, large or sparse indexes.
- ``sys_name``: sysName.0 (absent in some files: empty).
"""

from __future__ import annotations

from typing import Any

ZOO: dict[str, dict[str, Any]] = {
    "airos_airos8": {
        "platform": ("Ubiquiti", "LiteBeam 5AC Gen2", "airOS", "8.7.4", "linux"),
        "interfaces": 9,
        "names": {2: "eth0", 7: "ath0", 8: "br0"},  # ifDescr: no ifXTable in the file
        "sys_name": "<private>",
    },
    "fortigate_60f": {
        "platform": ("Fortinet", "FGT_60F", "FortiOS", "7.2.6", "fortinet"),
        "interfaces": 17,  # 11 ifAdminStatus rows, 17 ifOperStatus rows
        "names": {1: "wan1", 7: "ssl.root", 18: "MGMT"},
        "sys_name": "<private>",
    },
    "ios_2960x": {
        "platform": ("Cisco", "WS-C2960X-48FPS-L", "IOS", "15.0(2a)EX5", "cisco_ios"),
        "interfaces": 146,
        "names": {1: "Vl1", 5001: "Po1", 5179: "StackPort1", 10101: "Gi1/0/1"},
        "sys_name": "<private>",
    },
    "ios_c3560": {
        "platform": ("Cisco", "WS-C3560-48TS-S", "IOS", "12.2(55)SE12", "cisco_ios"),
        "interfaces": 58,  # ifOperStatus only: no ifAdminStatus in the file
        "names": {1: "Vl1", 5030: "Po30", 10001: "Fa0/1"},
        "sys_name": "",
    },
    "iosxe_isr4321": {
        "platform": ("Cisco", "ISR4321/K9", "IOS-XE", "17.6.4", "cisco_xe"),
        "interfaces": 12,
        "names": {1: "Gi0/0/0", 8: "Gi0/0/0.300", 14: "VoiceOverIpPeer450"},
        "sys_name": "<private>",
    },
    "jetstream_sg2218p": {
        "platform": (
            "TP-Link",
            "SG2218P",
            "JetStream",
            "1.20.4 Build 20241205 Rel.64944",
            "tplink_jetstream",
        ),
        "interfaces": 20,
        "names": {1: "Vlan-interface1", 255: "Vlan-interface255", 49153: "gigabitEthernet 1/0/1"},
        "sys_name": "<private>",
    },
    "routeros": {
        "platform": ("MikroTik", "RB952Ui-5ac2nD", "RouterOS", "6.40.5", "mikrotik_routeros"),
        "interfaces": 12,
        "names": {3: "WAN", 10: "bridge-local", 11: "pppoe-out1"},  # pppoe-out1: ppp, no MAC
        "sys_name": "<private>",
    },
    "routeros_ccr2004-7.24": {
        "platform": ("MikroTik", "CCR2004-1G-12S+2XS", "RouterOS", "7.24.2", "mikrotik_routeros"),
        "interfaces": 17,
        "names": {1: "ether1-Management", 13: "sfp-sfpplus12-SW-backup", 17: "lo"},
        "sys_name": "<private>",
    },
    "routeros_crs317": {
        "platform": ("MikroTik", "CRS317-1G-16S+", "RouterOS", "6.44.2", "mikrotik_routeros"),
        "interfaces": 20,
        "names": {17: "ether1", 18: "bridge1", 21: "shop-trunk", 22: "server-trunk"},
        "sys_name": "<private>",
    },
    "routeros_ltap-mini": {
        "platform": ("MikroTik", "RB912R-2nD", "RouterOS", "", "mikrotik_routeros"),
        "interfaces": 0,
        "names": {},
        "sys_name": "<private>",
    },
    "routeros_rb2011il": {
        "platform": ("MikroTik", "RB2011iL", "RouterOS", "", "mikrotik_routeros"),
        "interfaces": 0,
        "names": {},
        "sys_name": "<private>",
    },
    "routeros_rb433gl": {
        "platform": ("MikroTik", "RB433GL", "RouterOS", "7.18.2", "mikrotik_routeros"),
        "interfaces": 14,
        "names": {1: "trunk: blank (eth1)", 5: "trunk: Crkva (wifi1)", 16: "Vlan4"},
        "sys_name": "<private>",
    },
    "routeros_rb5009upr+s+": {
        "platform": ("MikroTik", "RB5009UPr+S+", "RouterOS", "7.20.6", "mikrotik_routeros"),
        "interfaces": 13,
        "names": {1: "lo", 10: "sfp-sfpplus1", 13: "wg", 14: "Tunnel"},
        "sys_name": "",
    },
    "routeros_rb750gr3": {
        # entPhysicalDescr says 7.20beta2 (testing); mtxrLicVersion says 7.20.4
        "platform": ("MikroTik", "RB750Gr3", "RouterOS", "7.20beta2", "mikrotik_routeros"),
        "interfaces": 14,
        "names": {2: "wan: STCable (eth1)", 6: "trunk: Down (eth5)", 8: "wg: Hub (NMS)"},
        "sys_name": "<private>",
    },
    "routeros_rb760igs": {
        "platform": ("MikroTik", "RB760iGS", "RouterOS", "7.1.1", "mikrotik_routeros"),
        "interfaces": 10,
        "names": {6: "sfp1", 7: "bridge1", 10: "vlan254"},
        "sys_name": "<private>",
    },
    "routeros_rblhgr": {
        "platform": ("MikroTik", "RBLHGR", "RouterOS", "6.45.7", "mikrotik_routeros"),
        "interfaces": 2,
        "names": {1: "lte1", 2: "ether1"},
        "sys_name": "<private>",
    },
    "routeros_station": {
        "platform": ("MikroTik", "RBDynaDishG-5HacD", "RouterOS", "", "mikrotik_routeros"),
        "interfaces": 0,
        "names": {},
        "sys_name": "<private>",
    },
    "routeros_wifi": {
        "platform": ("MikroTik", "RBLHGG-60ad", "RouterOS", "6.44", "mikrotik_routeros"),
        "interfaces": 4,
        "names": {1: "wlan60-1", 4: "wlan60-station-1"},
        "sys_name": "<private>",
    },
    "ruijie": {
        "platform": ("Ruijie", "RG-S6220-48XS4QXS", "RGOS", "173619", "ruijie_os"),
        "interfaces": 57,
        "names": {1: "Te0/1"},
        "sys_name": "<private>",
    },
    "tplink_sg2008": {
        "platform": (
            "TP-Link",
            "TL-SG2008",
            "JetStream",
            "1.0.5 Build 20160401 Rel.43046",
            "tplink_jetstream",
        ),
        "interfaces": 11,
        "names": {1: "port 1: Gigabit Copper", 52800: "AUX", 52802: "Vlan-interface99"},
        "sys_name": "<private>",
    },
    "unifi_nanohd": {
        "platform": ("Ubiquiti", "UAP-nanoHD", "UniFi", "5.43.36.12724", "linux"),
        "interfaces": 29,
        "names": {3: "ra0", 16: "apcli0", 29: "br0"},
        "sys_name": "<private>",
    },
    "vrp_5720": {
        "platform": (
            "Huawei",
            "S5720-56C-PWR-EI-AC",
            "VRP",
            "5.170 (S5720 V200R010C00SPC600)",
            "huawei",
        ),
        "interfaces": 65,
        "names": {1: "InLoopBack0", 4: "MEth0/0/1", 6: "GigabitEthernet0/0/1"},
        "sys_name": "<private>",
    },
    "vrp_ar169sfp": {
        "platform": ("Huawei", "AR169F", "VRP", "5.170 (AR160 V200R009C00SPC500)", "huawei"),
        "interfaces": 16,
        "names": {9: "Cellular0/0/0", 12: "Dialer1", 18: "GigabitEthernet0/0/4.11"},
        "sys_name": "<private>",
    },
}
