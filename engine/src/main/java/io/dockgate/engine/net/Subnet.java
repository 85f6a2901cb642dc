package io.dockgate.engine.net;

import io.dockgate.engine.EngineException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 subnet in CIDR form, with the address arithmetic IPAM needs. Addresses are unsigned 32-bit ints. */
public record Subnet(int base, int prefix) {
    public Subnet {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("prefix " + prefix);
        }
        base = base & mask(prefix);
    }

    static int mask(int prefix) {
        return prefix == 0 ? 0 : (int) (0xffffffffL << (32 - prefix));
    }

    /** Parses a.b.c.d/n (the address need not be the first of the subnet: it is masked, as Docker reports it). */
    public static Subnet parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw EngineException.invalid("invalid CIDR address: " + cidr);
        }
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw EngineException.invalid("invalid CIDR address: " + cidr);
        }
        if (prefix < 0 || prefix > 32) {
            throw EngineException.invalid("invalid CIDR address: " + cidr);
        }
        return new Subnet(address(cidr.substring(0, slash)), prefix);
    }

    /** A dotted IPv4 address as an int; IPv6 and names are refused. */
    public static int address(String text) {
        if (!text.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            throw EngineException.invalid("invalid IPv4 address: " + text);
        }
        int v = 0;
        for (String part : text.split("\\.")) {
            int b = Integer.parseInt(part);
            if (b > 255) {
                throw EngineException.invalid("invalid IPv4 address: " + text);
            }
            v = (v << 8) | b;
        }
        return v;
    }

    public static String text(int address) {
        return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    public static Inet4Address inet(int address) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (address >>> 24), (byte) (address >>> 16),
                    (byte) (address >>> 8), (byte) address});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public long size() {
        return 1L << (32 - prefix);
    }

    /** The last address (broadcast). */
    public int last() {
        return base | ~mask(prefix);
    }

    public boolean contains(int address) {
        return (address & mask(prefix)) == base;
    }

    public boolean contains(Subnet other) {
        return other.prefix >= prefix && contains(other.base);
    }

    public boolean overlaps(Subnet other) {
        return contains(other.base) || other.contains(base);
    }

    @Override
    public String toString() {
        return text(base) + "/" + prefix;
    }
}
