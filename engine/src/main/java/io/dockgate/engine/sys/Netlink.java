package io.dockgate.engine.sys;

import java.io.Closeable;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * An rtnetlink socket (NETLINK_ROUTE), bound to the network namespace of the thread that opened it: the
 * link, address and route requests the bridge driver needs, each acknowledged by the kernel, without a
 * process per call. Not thread-safe: one request at a time per socket.
 */
public final class Netlink implements Closeable {
    private static final int AF_NETLINK = 16;
    private static final int AF_INET = 2;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int NETLINK_ROUTE = 0;

    private static final short RTM_NEWLINK = 16;
    private static final short RTM_DELLINK = 17;
    private static final short RTM_GETLINK = 18;
    private static final short RTM_NEWADDR = 20;
    private static final short RTM_NEWROUTE = 24;
    private static final short NLMSG_ERROR = 2;
    private static final short NLMSG_DONE = 3;
    private static final short NLM_F_REQUEST = 1;
    private static final short NLM_F_ACK = 4;
    private static final short NLM_F_EXCL = 0x200;
    private static final short NLM_F_CREATE = 0x400;

    private static final short IFLA_ADDRESS = 1;
    private static final short IFLA_IFNAME = 3;
    private static final short IFLA_MTU = 4;
    private static final short IFLA_MASTER = 10;
    private static final short IFLA_LINKINFO = 18;
    private static final short IFLA_NET_NS_FD = 28;
    private static final short IFLA_INFO_KIND = 1;
    private static final short IFLA_INFO_DATA = 2;
    private static final short VETH_INFO_PEER = 1;
    private static final int IFF_UP = 1;
    private static final short IFA_ADDRESS = 1;
    private static final short IFA_LOCAL = 2;
    private static final short IFA_BROADCAST = 4;
    private static final short RTA_OIF = 4;
    private static final short RTA_GATEWAY = 5;
    private static final int NLA_F_NESTED = 1 << 15;
    public static final int ENODEV = 19;
    public static final int EEXIST = 17;

    private final int fd;
    private int seq;
    private final byte[] reply = new byte[65536];

    private Netlink(int fd) {
        this.fd = fd;
    }

    /** Opens a socket in the calling thread's network namespace. */
    public static Netlink open() throws IOException {
        LibC libc = Syscalls.libc();
        int fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) {
            throw error("socket(AF_NETLINK)");
        }
        byte[] kernel = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder()).putShort((short) AF_NETLINK).array();
        if (libc.bind(fd, kernel, kernel.length) < 0 || libc.connect(fd, kernel, kernel.length) < 0) {
            Syscalls.ErrnoException e = error("bind/connect(AF_NETLINK)");
            libc.close(fd);
            throw e;
        }
        return new Netlink(fd);
    }

    private static Syscalls.ErrnoException error(String call) {
        int errno = Syscalls.lastError();
        return new Syscalls.ErrnoException(call + ": " + Syscalls.strerror(errno), errno);
    }

    // ------------------------------------------------------------------ requests

    /** Creates a Linux bridge (down). */
    public void addBridge(String name, byte[] mac) throws IOException {
        Message m = new Message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL).ifinfo(0, 0, 0);
        m.string(IFLA_IFNAME, name);
        if (mac != null) {
            m.bytes(IFLA_ADDRESS, mac);
        }
        int info = m.begin(IFLA_LINKINFO);
        m.string(IFLA_INFO_KIND, "bridge");
        m.end(info);
        request(m, "create bridge " + name);
    }

    /**
     * Creates a veth pair: {@code hostName} here, enslaved to {@code master} (an ifindex, 0 for none), and
     * {@code peerName} with {@code peerMac} (null: the kernel's) directly in the namespace open as
     * {@code peerNetnsFd}.
     */
    public void addVeth(String hostName, int master, int mtu, String peerName, byte[] peerMac, int peerNetnsFd) throws IOException {
        Message m = new Message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL).ifinfo(0, 0, 0);
        m.string(IFLA_IFNAME, hostName);
        if (mtu > 0) {
            m.u32(IFLA_MTU, mtu);
        }
        if (master > 0) {
            m.u32(IFLA_MASTER, master);
        }
        int info = m.begin(IFLA_LINKINFO);
        m.string(IFLA_INFO_KIND, "veth");
        int data = m.begin(IFLA_INFO_DATA);
        int peer = m.begin(VETH_INFO_PEER);
        m.ifinfoBody(0, 0, 0);
        m.string(IFLA_IFNAME, peerName);
        if (mtu > 0) {
            m.u32(IFLA_MTU, mtu);
        }
        if (peerMac != null) {
            m.bytes(IFLA_ADDRESS, peerMac);
        }
        m.u32(IFLA_NET_NS_FD, peerNetnsFd);
        m.end(peer);
        m.end(data);
        m.end(info);
        request(m, "create veth " + hostName);
    }

    /** The interface's index, or 0 when there is none by that name. */
    public int index(String name) throws IOException {
        Message m = new Message(RTM_GETLINK, 0).ifinfo(0, 0, 0);
        m.string(IFLA_IFNAME, name);
        try {
            ByteBuffer r = exchange(m, "find link " + name, true);
            return r.getInt(16 + 4); // nlmsghdr, then ifinfomsg: family, pad, type, index
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() == ENODEV) {
                return 0;
            }
            throw e;
        }
    }

    /** Brings the interface up. */
    public void up(int index) throws IOException {
        request(new Message(RTM_NEWLINK, 0).ifinfo(index, IFF_UP, IFF_UP), "set link " + index + " up");
    }

    /** Deletes an interface (a veth takes its peer along). */
    public void deleteLink(int index) throws IOException {
        request(new Message(RTM_DELLINK, 0).ifinfo(index, 0, 0), "delete link " + index);
    }

    /** Adds an IPv4 address with its prefix length (and the subnet's broadcast address). */
    public void addAddress(int index, Inet4Address address, int prefix) throws IOException {
        Message m = new Message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        m.buffer.put((byte) AF_INET).put((byte) prefix).put((byte) 0).put((byte) 0).putInt(index);
        m.bytes(IFA_LOCAL, address.getAddress());
        m.bytes(IFA_ADDRESS, address.getAddress());
        int a = ByteBuffer.wrap(address.getAddress()).getInt();
        int broadcast = prefix >= 31 ? a : a | (int) (0xffffffffL >>> prefix);
        m.bytes(IFA_BROADCAST, ByteBuffer.allocate(4).putInt(broadcast).array());
        request(m, "add address " + address.getHostAddress() + "/" + prefix);
    }

    /** Adds the default route through a gateway on the interface. */
    public void addDefaultRoute(int index, Inet4Address gateway) throws IOException {
        Message m = new Message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        // rtmsg: family, dst_len, src_len, tos, table (main), protocol (boot), scope (universe), type (unicast), flags
        m.buffer.put((byte) AF_INET).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 254).put((byte) 3).put((byte) 0)
                .put((byte) 1).putInt(0);
        m.bytes(RTA_GATEWAY, gateway.getAddress());
        m.u32(RTA_OIF, index);
        request(m, "add default route via " + gateway.getHostAddress());
    }

    // ------------------------------------------------------------------ wire

    private void request(Message m, String what) throws IOException {
        exchange(m, what, false);
    }

    /** Sends one request and reads until its acknowledgement (or its one reply, when asked). */
    private ByteBuffer exchange(Message m, String what, boolean wantsReply) throws IOException {
        LibC libc = Syscalls.libc();
        int sequence = ++seq;
        byte[] bytes = m.finish(sequence, wantsReply ? NLM_F_REQUEST : NLM_F_REQUEST | NLM_F_ACK);
        if (libc.send(fd, bytes, bytes.length, 0) < 0) {
            throw error("netlink send (" + what + ")");
        }
        while (true) {
            long n = libc.recv(fd, reply, reply.length, 0);
            if (n < 0) {
                throw error("netlink recv (" + what + ")");
            }
            ByteBuffer r = ByteBuffer.wrap(reply, 0, (int) n).order(ByteOrder.nativeOrder());
            int offset = 0;
            while (offset + 16 <= n) {
                int length = r.getInt(offset);
                short type = r.getShort(offset + 4);
                int messageSeq = r.getInt(offset + 8);
                if (length < 16) {
                    throw new IOException("netlink: malformed reply to " + what);
                }
                if (messageSeq == sequence) {
                    if (type == NLMSG_ERROR) {
                        int errno = -r.getInt(offset + 16);
                        if (errno != 0) {
                            throw new Syscalls.ErrnoException(what + ": " + Syscalls.strerror(errno), errno);
                        }
                        return r;
                    }
                    if (type == NLMSG_DONE) {
                        return r;
                    }
                    if (wantsReply) {
                        ByteBuffer one = ByteBuffer.wrap(reply, offset, length).slice().order(ByteOrder.nativeOrder());
                        return one;
                    }
                }
                offset += (length + 3) & ~3;
            }
        }
    }

    /** One request being built: header placeholder, then the family header, then attributes. */
    private static final class Message {
        final ByteBuffer buffer = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());
        final short type;
        final short flags;

        Message(short type, int flags) {
            this.type = type;
            this.flags = (short) flags;
            buffer.position(16);
        }

        Message ifinfo(int index, int ifFlags, int change) {
            ifinfoBody(index, ifFlags, change);
            return this;
        }

        void ifinfoBody(int index, int ifFlags, int change) {
            buffer.put((byte) 0).put((byte) 0).putShort((short) 0).putInt(index).putInt(ifFlags).putInt(change);
        }

        void bytes(short attr, byte[] value) {
            buffer.putShort((short) (4 + value.length)).putShort(attr).put(value);
            pad();
        }

        void string(short attr, String value) {
            byte[] s = value.getBytes(StandardCharsets.UTF_8);
            byte[] z = new byte[s.length + 1];
            System.arraycopy(s, 0, z, 0, s.length);
            bytes(attr, z);
        }

        void u32(short attr, int value) {
            buffer.putShort((short) 8).putShort(attr).putInt(value);
        }

        /** Opens a nested attribute; returns where its length goes. */
        int begin(short attr) {
            int at = buffer.position();
            buffer.putShort((short) 0).putShort((short) (attr | NLA_F_NESTED));
            return at;
        }

        void end(int at) {
            buffer.putShort(at, (short) (buffer.position() - at));
        }

        private void pad() {
            while (buffer.position() % 4 != 0) {
                buffer.put((byte) 0);
            }
        }

        byte[] finish(int seq, short requestFlags) {
            int length = buffer.position();
            buffer.putInt(0, length).putShort(4, type).putShort(6, (short) (flags | requestFlags)).putInt(8, seq).putInt(12, 0);
            byte[] out = new byte[length];
            System.arraycopy(buffer.array(), 0, out, 0, length);
            return out;
        }
    }

    @Override
    public void close() {
        Syscalls.libc().close(fd);
    }
}
