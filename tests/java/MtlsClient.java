import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Collections;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A mutual-TLS client that proves a keystore works in Java the way Mule uses it.
 *
 * <p>Usage: MtlsClient storeType storePath storePass keyPass trustPemPath host port
 *
 * <p>It loads the keystore with KeyStore.getInstance(storeType), inits a KeyManagerFactory
 * (default algorithm, SunX509) with keyPass, trusts only the certificates of trustPemPath,
 * verifies the server's host name, completes a TLS 1.3 or 1.2 handshake, sends "ping" and
 * expects "pong".
 *
 * <p>Exit codes: 0 success ("OK protocol cipher"); 1 usage error; 2 the keystore, a key or the
 * trust PEM could not be loaded; 3 the handshake or the first read failed (under TLS 1.3 the
 * server's rejection of a client certificate shows only at the read); 4 the server answered
 * something other than "pong".
 */
public final class MtlsClient {
    private static final int TIMEOUT_MS = 10_000;

    private MtlsClient() {
    }

    public static void main(String[] args) {
        if (args.length != 7) {
            System.out.println(
                "usage: MtlsClient storeType storePath storePass keyPass trustPemPath host port");
            System.exit(1);
        }
        String storeType = args[0];
        String storePath = args[1];
        char[] storePass = args[2].toCharArray();
        char[] keyPass = args[3].toCharArray();
        String trustPem = args[4];
        String host = args[5];
        int port = Integer.parseInt(args[6]);

        SSLContext context;
        try {
            KeyStore keyStore = KeyStore.getInstance(storeType);
            try (InputStream in = new FileInputStream(storePath)) {
                keyStore.load(in, storePass);
            }
            int keyEntries = 0;
            for (String alias : Collections.list(keyStore.aliases())) {
                if (keyStore.isKeyEntry(alias)) {
                    keyEntries++;
                    Certificate[] chain = keyStore.getCertificateChain(alias);
                    System.out.println("key entry " + alias + " chain length "
                        + (chain == null ? 0 : chain.length));
                }
            }
            if (keyEntries == 0) {
                System.out.println("LOAD-FAILED no private key entry in the keystore");
                System.exit(2);
            }
            KeyManagerFactory kmf =
                KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keyStore, keyPass);

            KeyStore trustStore = KeyStore.getInstance(KeyStore.getDefaultType());
            trustStore.load(null, null);
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            byte[] pem = Files.readAllBytes(Path.of(trustPem));
            Collection<? extends Certificate> roots =
                factory.generateCertificates(new ByteArrayInputStream(pem));
            if (roots.isEmpty()) {
                System.out.println("LOAD-FAILED no certificate in " + trustPem);
                System.exit(2);
            }
            int n = 0;
            for (Certificate root : roots) {
                trustStore.setCertificateEntry("trusted-" + n++, root);
            }
            TrustManagerFactory tmf =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore);

            context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        } catch (Exception e) {
            System.out.println("LOAD-FAILED " + describe(e));
            System.exit(2);
            return;
        }

        String stage = "connect";
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            socket.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);

            stage = "handshake";
            socket.startHandshake();
            SSLSession session = socket.getSession();

            stage = "write";
            OutputStream out = socket.getOutputStream();
            out.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();

            stage = "read";
            BufferedReader reader = new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String line = reader.readLine();
            if (line == null) {
                System.out.println("TLS-FAILED at read: the server closed the connection");
                System.exit(3);
            }
            if (!line.equals("pong")) {
                System.out.println("BAD-REPLY " + line);
                System.exit(4);
            }
            System.out.println("OK " + session.getProtocol() + " " + session.getCipherSuite());
        } catch (Exception e) {
            System.out.println("TLS-FAILED at " + stage + ": " + describe(e));
            System.exit(3);
        }
        System.exit(0);
    }

    /** The exception's class and message, then each cause's. */
    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (text.length() > 0) {
                text.append(" <- caused by ");
            }
            text.append(t.getClass().getName()).append(": ").append(t.getMessage());
            if (t.getCause() == t) {
                break;
            }
        }
        return text.toString();
    }
}
