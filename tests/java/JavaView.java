import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What the JDK's KeyStore API sees in keystores: the oracle of the differential tests.
 *
 * <p>Reads one request per line on stdin, tab-separated: TYPE PATH STOREPASS KEYPASS [LOOKUP...].
 * Passwords are hex of their UTF-8 bytes, or "-" for null (KEYPASS "-": the store password).
 * For each request prints one JSON line: {"path", "ok", "error", "entries": [{"alias", "kind",
 * "chain": [SHA-256...], "key_algorithm", "secret_sha256", "key_error"}], "lookups": {NAME: alias
 * found or null}}, entries in the order KeyStore.aliases() gives. Each LOOKUP is resolved as Mule
 * and the key manager do: getCertificate/isKeyEntry with that name, and reported by the SHA-256 of
 * the certificate (or secret) found. One JVM serves many stores. TYPE BKS or UBER is read by Bouncy
 * Castle's provider (bcprov.jar on the class path), as an Android app or a BC-based project reads it.
 */
public final class JavaView {
    private JavaView() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        StringBuilder out = new StringBuilder();
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            System.out.println(view(f));
            System.out.flush();
        }
    }

    private static char[] password(String hex) {
        if (hex.equals("-")) {
            return null;
        }
        byte[] raw = new byte[hex.length() / 2];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return new String(raw, StandardCharsets.UTF_8).toCharArray();
    }

    private static String view(String[] f) {
        StringBuilder sb = new StringBuilder("{\"path\":").append(quote(f[1]));
        KeyStore ks;
        char[] storePass = password(f[2]);
        char[] keyPass = f[3].equals("-") ? storePass : password(f[3]);
        try (InputStream stream = new FileInputStream(f[1])) {
            ks = keyStore(f[0]);
            ks.load(stream, storePass);
        } catch (Throwable e) {
            return sb.append(",\"ok\":false,\"error\":").append(quote(e.toString())).append("}").toString();
        }
        sb.append(",\"ok\":true,\"entries\":[");
        try {
            List<String> aliases = Collections.list(ks.aliases());
            boolean first = true;
            for (String alias : aliases) {
                sb.append(first ? "" : ",").append(entry(ks, alias, keyPass, storePass));
                first = false;
            }
            sb.append("],\"lookups\":{");
            for (int i = 4; i < f.length; i++) {
                sb.append(i == 4 ? "" : ",").append(quote(f[i])).append(":").append(lookup(ks, f[i], keyPass));
            }
            sb.append("}");
        } catch (Throwable e) {
            sb.append("],\"lookups\":{},\"error\":").append(quote(e.toString()));
        }
        return sb.append("}").toString();
    }

    /**
     * The JDK's KeyStore for JKS, JCEKS and PKCS12; Bouncy Castle's for BKS and UBER (bcprov.jar on
     * the class path: Debian's libbcprov-java). The provider is not registered, so the JDK's own
     * types stay the JDK's.
     */
    private static KeyStore keyStore(String type) throws Exception {
        if (!type.equals("BKS") && !type.equals("UBER")) {
            return KeyStore.getInstance(type);
        }
        if (bouncyCastle == null) {
            bouncyCastle = (Provider) Class.forName("org.bouncycastle.jce.provider.BouncyCastleProvider")
                .getDeclaredConstructor().newInstance();
        }
        return KeyStore.getInstance(type, bouncyCastle);
    }

    private static Provider bouncyCastle;

    private static String entry(KeyStore ks, String alias, char[] keyPass, char[] storePass) throws Exception {
        StringBuilder sb = new StringBuilder("{\"alias\":").append(quote(alias));
        String kind;
        if (ks.entryInstanceOf(alias, KeyStore.PrivateKeyEntry.class)) {
            kind = "PrivateKeyEntry";
        } else if (ks.entryInstanceOf(alias, KeyStore.SecretKeyEntry.class)) {
            kind = "SecretKeyEntry";
        } else if (ks.entryInstanceOf(alias, KeyStore.TrustedCertificateEntry.class)) {
            kind = "trustedCertEntry";
        } else {
            kind = ks.containsAlias(alias) ? "unknown" : "unreachable";
        }
        sb.append(",\"kind\":").append(quote(kind)).append(",\"chain\":[");
        Certificate[] chain = ks.isKeyEntry(alias) ? ks.getCertificateChain(alias) : null;
        if (chain == null && ks.isCertificateEntry(alias)) {
            chain = new Certificate[] {ks.getCertificate(alias)};
        }
        if (chain != null) {
            for (int i = 0; i < chain.length; i++) {
                sb.append(i == 0 ? "" : ",").append(quote(sha256(chain[i].getEncoded())));
            }
        }
        sb.append("]");
        if (ks.isKeyEntry(alias)) {
            Key key = null;
            String error = null;
            for (char[] pass : new char[][] {keyPass, storePass}) {
                try {
                    key = ks.getKey(alias, pass);
                    if (key != null) {
                        break;
                    }
                } catch (Throwable e) {
                    error = e.toString();
                }
            }
            if (key != null) {
                sb.append(",\"key_algorithm\":").append(quote(key.getAlgorithm()));
                if (kind.equals("SecretKeyEntry")) {
                    sb.append(",\"secret_sha256\":").append(quote(sha256(key.getEncoded())));
                }
            } else {
                sb.append(",\"key_error\":").append(quote(String.valueOf(error)));
            }
        }
        return sb.append("}").toString();
    }

    private static String lookup(KeyStore ks, String name, char[] keyPass) {
        try {
            if (ks.isCertificateEntry(name) || ks.entryInstanceOf(name, KeyStore.PrivateKeyEntry.class)) {
                return quote(sha256(ks.getCertificate(name).getEncoded()));
            }
            if (ks.isKeyEntry(name)) {
                return quote(sha256(ks.getKey(name, keyPass).getEncoded()));
            }
            return "null";
        } catch (Throwable e) {
            return quote("error: " + e);
        }
    }

    private static String sha256(byte[] data) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(data);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < digest.length; i++) {
            sb.append(i == 0 ? "" : ":").append(String.format("%02X", digest[i]));
        }
        return sb.toString();
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
