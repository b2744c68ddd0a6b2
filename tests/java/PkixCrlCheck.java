import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Java's own PKIX validation of certificate paths with revocation checking by a CRL.
 *
 * <p>Usage: PkixCrlCheck root.pem crl.pem chain.pem...
 *
 * <p>Each chain file holds a certificate and any intermediates (not the root). The CRL goes into
 * a Collection CertStore; revocation is enabled (the default PKIXRevocationChecker reads CRLs
 * from the CertStores; OCSP is off unless the ocsp.enable property is set). Prints one line per
 * chain file: "FILE OK" or "FILE REJECTED reason: message". Exit 0 unless an argument fails to load.
 */
public final class PkixCrlCheck {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: PkixCrlCheck root.pem crl.pem chain.pem...");
            System.exit(1);
        }
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        X509Certificate root;
        try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
            root = (X509Certificate) factory.generateCertificate(in);
        }
        X509CRL crl;
        try (InputStream in = Files.newInputStream(Path.of(args[1]))) {
            crl = (X509CRL) factory.generateCRL(in);
        }
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(true);
        params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(List.of(crl))));
        CertPathValidator validator = CertPathValidator.getInstance("PKIX");
        for (int i = 2; i < args.length; i++) {
            List<X509Certificate> chain = new ArrayList<>();
            try (InputStream in = Files.newInputStream(Path.of(args[i]))) {
                for (var cert : factory.generateCertificates(in)) {
                    if (!((X509Certificate) cert).equals(root)) {
                        chain.add((X509Certificate) cert);
                    }
                }
            }
            CertPath path = factory.generateCertPath(chain);
            try {
                validator.validate(path, params);
                System.out.println(args[i] + " OK");
            } catch (CertPathValidatorException e) {
                System.out.println(args[i] + " REJECTED " + e.getReason() + ": " + e.getMessage());
            }
        }
    }
}
