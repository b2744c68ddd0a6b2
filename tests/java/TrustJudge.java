import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The judge of verify-trust: would Java, with a given truststore, connect to an HTTPS server?
 *
 * <p>Reads jobs from stdin, one per line, tab-separated:
 * {@code id storeType storePath storePass url proxyHost:proxyPort|-}. For each it loads the
 * truststore with KeyStore.getInstance(storeType), inits the default TrustManagerFactory (PKIX,
 * as Mule's tls:trust-store does) with it, and opens the URL with HttpsURLConnection, whose
 * default host name verifier makes JSSE check the host name (endpoint identification "HTTPS"),
 * directly or through the HTTP proxy. It prints one line per job: {@code id OK status} or
 * {@code id FAIL exception: message}. One JVM judges every job, to keep the suite fast.
 */
public final class TrustJudge {
    private static final int TIMEOUT_MS = 10_000;

    private TrustJudge() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            String[] job = line.split("\t");
            System.out.println(job[0] + " " + judge(job));
            System.out.flush();
        }
    }

    private static String judge(String[] job) {
        try {
            KeyStore store = KeyStore.getInstance(job[1]);
            try (InputStream stream = new FileInputStream(job[2])) {
                store.load(stream, job[3].toCharArray());
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            Proxy proxy = Proxy.NO_PROXY;
            if (!"-".equals(job[5])) {
                String[] hostPort = job[5].split(":");
                proxy = new Proxy(Proxy.Type.HTTP, new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
            }
            HttpsURLConnection conn = (HttpsURLConnection) new URL(job[4]).openConnection(proxy);
            conn.setSSLSocketFactory(context.getSocketFactory());
            conn.setConnectTimeout(TIMEOUT_MS);
            conn.setReadTimeout(TIMEOUT_MS);
            try {
                return "OK " + conn.getResponseCode();
            } finally {
                conn.disconnect();
            }
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            return "FAIL " + e.getClass().getSimpleName() + ": " + String.valueOf(root.getMessage()).replace('\n', ' ');
        }
    }
}
