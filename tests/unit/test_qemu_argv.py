"""build_argv and friends: every command line is checked without starting QEMU."""

from pathlib import Path

import pytest

from xv6net.qemu import NicSpec, VMSpec, build_argv, check_mac, make_mac


def values(argv: list[str], option: str) -> list[str]:
    """Every value given to `option` in argv, in order."""
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == option]


def socket_spec(**kwargs) -> VMSpec:
    return VMSpec(serial="/tmp/x/serial.sock", **kwargs)


def test_basic_machine():
    argv = build_argv(socket_spec())
    assert argv[0] == "qemu-system-i386"
    assert values(argv, "-machine") == ["pc"]
    assert values(argv, "-m") == ["128"]
    assert values(argv, "-accel") == ["tcg"]
    assert values(argv, "-kernel") == ["build/kernel.elf"]
    assert values(argv, "-initrd") == ["build/initramfs.cpio"]
    assert "-no-reboot" in argv
    assert "-append" not in argv


def test_smp_topology_is_explicit():
    argv = build_argv(socket_spec(cpus=2))
    assert values(argv, "-smp") == ["cpus=2,sockets=2,cores=1,threads=1"]


def test_cmdline_and_memory():
    argv = build_argv(socket_spec(cmdline="selftest=kstack", memory_mb=256))
    assert values(argv, "-append") == ["selftest=kstack"]
    assert values(argv, "-m") == ["256"]


def test_no_initramfs():
    assert "-initrd" not in build_argv(socket_spec(initramfs=None))


def test_no_nics_means_nic_none():
    argv = build_argv(socket_spec())
    assert values(argv, "-nic") == ["none"]
    assert "-netdev" not in argv
    assert "-device" not in argv


def test_nic_none_also_with_nics():
    # -device alone would not stop QEMU from adding its own unrestricted NIC.
    argv = build_argv(socket_spec(nics=[NicSpec("user")]))
    assert values(argv, "-nic") == ["none"]
    assert argv.index("-nic") < argv.index("-netdev")


def test_every_command_line_names_a_backend_or_says_none():
    for nics in ([], [NicSpec("user")], [NicSpec("none")],
                 [NicSpec("tap", ifname="tap0"), NicSpec("socket-listen", port=4000)]):
        for serial in ("stdio", "/tmp/s"):
            argv = build_argv(VMSpec(serial=serial, nics=nics))
            assert "none" in values(argv, "-nic")
            assert "-net" not in argv


def test_slirp_is_restricted():
    argv = build_argv(socket_spec(nics=[NicSpec("user")]))
    assert values(argv, "-netdev") == ["user,id=n0,restrict=on"]
    assert values(argv, "-device") == ["e1000,netdev=n0,mac=52:54:76:36:00:00,romfile="]


def test_tap_backend():
    argv = build_argv(socket_spec(nics=[NicSpec("tap", ifname="xv6tap0")]))
    assert values(argv, "-netdev") == ["tap,id=n0,ifname=xv6tap0,script=no,downscript=no"]


def test_tap_needs_ifname():
    with pytest.raises(ValueError, match="ifname"):
        NicSpec("tap")


@pytest.mark.parametrize(("backend", "netdev"), [
    ("socket-listen", "socket,id=n0,listen=127.0.0.1:5555"),
    ("socket-connect", "socket,id=n0,connect=127.0.0.1:5555"),
    ("stream-listen",
     "stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=5555"),
    ("stream-connect",
     "stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=5555"),
])
def test_socket_and_stream_backends(backend, netdev):
    argv = build_argv(socket_spec(nics=[NicSpec(backend, port=5555)]))
    assert values(argv, "-netdev") == [netdev]


@pytest.mark.parametrize(("backend", "server"), [("stream-listen", "on"),
                                                 ("stream-connect", "off")])
def test_stream_backends_on_a_unix_socket(backend, server):
    argv = build_argv(socket_spec(nics=[NicSpec(backend, path=Path("/tmp/x,y/wire.sock"))]))
    assert values(argv, "-netdev") == [
        f"stream,id=n0,server={server},addr.type=unix,addr.path=/tmp/x,,y/wire.sock"]


def test_only_stream_backends_take_a_path():
    with pytest.raises(ValueError, match="takes a port, not a path"):
        NicSpec("socket-listen", path=Path("/tmp/wire.sock"))


def test_socket_needs_port():
    with pytest.raises(ValueError, match="port"):
        NicSpec("socket-listen")


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.2.2", "230.0.0.1", "192.168.1.1"])
def test_socket_only_on_loopback(host):
    with pytest.raises(ValueError, match="loopback"):
        NicSpec("socket-connect", host=host, port=1234)


def test_unknown_backend_rejected():
    with pytest.raises(ValueError, match="unknown NIC backend"):
        NicSpec("mcast")  # type: ignore[arg-type]


def test_backend_none_has_device_only():
    argv = build_argv(socket_spec(nics=[NicSpec("none")]))
    assert "-netdev" not in argv
    assert values(argv, "-device") == ["e1000,mac=52:54:76:36:00:00,romfile="]


def test_pcap_filter_dump():
    spec = socket_spec(nics=[NicSpec("user", pcap=Path("/tmp/cap/a.pcap"))])
    argv = build_argv(spec)
    assert values(argv, "-object") == ["filter-dump,id=dump0,netdev=n0,file=/tmp/cap/a.pcap"]
    # the filter must follow the netdev it attaches to
    assert argv.index("-netdev") < argv.index("-object") < argv.index("-device")


def test_commas_in_paths_are_escaped():
    spec = VMSpec(serial="/tmp/a,b/s", nics=[NicSpec("user", pcap=Path("/tmp/x,y.pcap"))])
    argv = build_argv(spec)
    assert "path=/tmp/a,,b/s" in values(argv, "-chardev")[0]
    assert values(argv, "-object")[0].endswith("file=/tmp/x,,y.pcap")


def test_two_nics_get_distinct_ids_and_macs():
    spec = socket_spec(nics=[NicSpec("user"), NicSpec("socket-listen", port=4000)])
    argv = build_argv(spec)
    devices = values(argv, "-device")
    assert devices == ["e1000,netdev=n0,mac=52:54:76:36:00:00,romfile=",
                       "e1000,netdev=n1,mac=52:54:76:36:00:01,romfile="]


def test_guest_index_changes_macs():
    one = build_argv(socket_spec(index=1, nics=[NicSpec("user")]))
    two = build_argv(socket_spec(index=2, nics=[NicSpec("user")]))
    assert values(one, "-device") != values(two, "-device")
    assert "mac=52:54:76:36:02:00" in values(two, "-device")[0]


def test_explicit_mac_and_model():
    nic = NicSpec("user", mac="02:00:00:00:00:AA", model="ne2k_pci")
    argv = build_argv(socket_spec(nics=[nic]))
    assert values(argv, "-device") == ["ne2k_pci,netdev=n0,mac=02:00:00:00:00:aa,romfile="]


def test_make_mac_unique_and_local_unicast():
    macs = {make_mac(g, n) for g in range(16) for n in range(4)}
    assert len(macs) == 64
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert first & 0b10, "locally administered"
        assert not first & 0b01, "unicast"
        assert mac != "52:54:00:12:34:56"


@pytest.mark.parametrize("bad", [(-1, 0), (256, 0), (0, 256)])
def test_make_mac_range(bad):
    with pytest.raises(ValueError):
        make_mac(*bad)


@pytest.mark.parametrize("mac", ["01:00:5e:00:00:01", "52:54:00:12:34", "zz:00:00:00:00:00",
                                 "525400123456"])
def test_check_mac_rejects(mac):
    with pytest.raises(ValueError):
        check_mac(mac)


def test_serial_socket_mode():
    argv = build_argv(socket_spec())
    assert values(argv, "-display") == ["none"]
    assert values(argv, "-chardev") == [
        "socket,id=ser0,path=/tmp/x/serial.sock,server=on,wait=on"]
    assert values(argv, "-serial") == ["chardev:ser0"]
    assert values(argv, "-monitor") == ["none"]
    assert "-nographic" not in argv


def test_serial_socket_without_wait():
    argv = build_argv(socket_spec(serial_wait=False))
    assert values(argv, "-chardev")[0].endswith("server=on,wait=off")


def test_stdio_mode():
    argv = build_argv(VMSpec(serial="stdio"))
    assert "-nographic" in argv
    assert values(argv, "-serial") == ["mon:stdio"]
    assert "-display" not in argv
    assert "-chardev" not in argv
    assert "-monitor" not in argv


def test_qmp_monitor_socket():
    argv = build_argv(socket_spec(monitor=Path("/tmp/x/qmp.sock")))
    assert values(argv, "-chardev")[1] == "socket,id=mon0,path=/tmp/x/qmp.sock,server=on,wait=off"
    assert values(argv, "-mon") == ["chardev=mon0,mode=control"]
    assert "-monitor" not in argv


def test_kvm_is_opt_in():
    assert values(build_argv(socket_spec(accel="kvm")), "-accel") == ["kvm"]
    with pytest.raises(ValueError):
        VMSpec(accel="hvf")  # type: ignore[arg-type]


def test_extra_args_last():
    argv = build_argv(socket_spec(extra=["-trace", "e1000*"]))
    assert argv[-2:] == ["-trace", "e1000*"]


def test_build_argv_is_pure():
    spec = socket_spec(nics=[NicSpec("user")])
    assert build_argv(spec) == build_argv(spec)
    assert spec.nics == (NicSpec("user"),)


@pytest.mark.parametrize("model", ["e1000", "ne2k_pci", "virtio-net-pci"])
def test_each_card_model_is_the_device(model):
    argv = build_argv(socket_spec(nics=[NicSpec("user", model=model)]))
    assert values(argv, "-device") == [f"{model},netdev=n0,mac=52:54:76:36:00:00,romfile="]


def test_unknown_card_model_is_refused():
    with pytest.raises(ValueError, match="unknown NIC model 'pcnet'"):
        NicSpec("user", model="pcnet")


def test_captured_virtio_tap_carries_no_vnet_header():
    tap = {"backend": "tap", "ifname": "tap-a-0"}
    plain = build_argv(socket_spec(nics=[NicSpec(**tap, model="virtio-net-pci",
                                                 pcap=Path("a.pcap"))]))
    assert values(plain, "-netdev") == [
        "tap,id=n0,ifname=tap-a-0,script=no,downscript=no,vnet_hdr=off"]
    for nic in (NicSpec(**tap, model="virtio-net-pci"), NicSpec(**tap, pcap=Path("a.pcap"))):
        argv = build_argv(socket_spec(nics=[nic]))
        assert values(argv, "-netdev") == ["tap,id=n0,ifname=tap-a-0,script=no,downscript=no"]


def test_a_guest_that_does_not_say_gets_two_cpus(monkeypatch):
    monkeypatch.delenv("XV6NET_CPUS", raising=False)
    assert VMSpec().cpus == 2
    assert values(build_argv(socket_spec()), "-smp") == ["cpus=2,sockets=2,cores=1,threads=1"]


def test_xv6net_cpus_sets_the_default_and_an_explicit_count_stays(monkeypatch):
    monkeypatch.setenv("XV6NET_CPUS", "1")
    assert VMSpec().cpus == 1
    monkeypatch.setenv("XV6NET_CPUS", "4")
    assert VMSpec().cpus == 4
    assert VMSpec(cpus=1).cpus == 1
    monkeypatch.setenv("XV6NET_CPUS", "zero")
    assert VMSpec().cpus == 2
