import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mule secure properties done independently with javax.crypto, the way MuleSoft's
 * secure-properties-tool.jar and the Secure Configuration Properties docs describe it:
 * cipher ALG/MODE/PKCS5Padding, key = the key string's bytes, IV = the key's first block
 * (zero-padded) or, with random IVs, a random IV written before the ciphertext; ECB no IV.
 *
 * One JVM for many cases: java SecureProps.java CASES, where each line of CASES is tab-separated
 *   D  ALG MODE RANDOM(true|false) KEY  BASE64       -> prints the plaintext, Base64
 *   E  ALG MODE RANDOM KEY  PLAINTEXT_BASE64          -> prints the ciphertext, Base64
 *   P  ALG MODE RANDOM KEY  PATH  (a .properties file) -> prints name=plaintext Base64, sorted,
 *      for every ![...] value java.util.Properties reads
 *   Y  ALG MODE RANDOM KEY  PATH  (a .yaml file)       -> the same for every "![...]" value
 *   F  ALG MODE RANDOM KEY  PATH  (a file-level file)  -> the whole file decrypted, Base64
 * One output line per case; a case that fails prints "ERROR <exception>".
 */
public class SecureProps {
    static byte[] crypt(int op, String alg, String mode, boolean random, String key, byte[] data)
            throws Exception {
        Cipher cipher = Cipher.getInstance(alg + "/" + mode + "/PKCS5Padding");
        byte[] raw = key.getBytes(StandardCharsets.US_ASCII);
        SecretKeySpec spec = new SecretKeySpec(raw, alg);
        int block = cipher.getBlockSize();
        if (mode.equals("ECB")) {
            cipher.init(op, spec);
            return cipher.doFinal(data);
        }
        if (random) {
            if (op == Cipher.ENCRYPT_MODE) {
                byte[] iv = new byte[block];
                new SecureRandom().nextBytes(iv);
                cipher.init(op, spec, new IvParameterSpec(iv));
                byte[] body = cipher.doFinal(data);
                byte[] out = Arrays.copyOf(iv, block + body.length);
                System.arraycopy(body, 0, out, block, body.length);
                return out;
            }
            cipher.init(op, spec, new IvParameterSpec(Arrays.copyOfRange(data, 0, block)));
            return cipher.doFinal(Arrays.copyOfRange(data, block, data.length));
        }
        cipher.init(op, spec, new IvParameterSpec(Arrays.copyOf(raw, block)));  // zero-padded
        return cipher.doFinal(data);
    }

    static String decryptValue(String[] f, String wrapped) throws Exception {
        String b64 = wrapped.substring(2, wrapped.length() - 1);
        byte[] plain = crypt(Cipher.DECRYPT_MODE, f[1], f[2], Boolean.parseBoolean(f[3]), f[4],
                             Base64.getDecoder().decode(b64));
        return Base64.getEncoder().encodeToString(plain);
    }

    static String run(String[] f) throws Exception {
        Base64.Decoder dec = Base64.getDecoder();
        Base64.Encoder enc = Base64.getEncoder();
        boolean random = Boolean.parseBoolean(f[3]);
        switch (f[0]) {
            case "D":
                return enc.encodeToString(crypt(Cipher.DECRYPT_MODE, f[1], f[2], random, f[4], dec.decode(f[5])));
            case "E":
                return enc.encodeToString(crypt(Cipher.ENCRYPT_MODE, f[1], f[2], random, f[4], dec.decode(f[5])));
            case "F":
                String text = Files.readString(Path.of(f[5]), StandardCharsets.US_ASCII);
                if (text.endsWith("\n")) return "ERROR trailing newline";
                return enc.encodeToString(crypt(Cipher.DECRYPT_MODE, f[1], f[2], random, f[4], dec.decode(text)));
            case "P": {
                Properties props = new Properties();
                try (InputStreamReader in = new InputStreamReader(new FileInputStream(f[5]), StandardCharsets.UTF_8)) {
                    props.load(in);
                }
                TreeSet<String> out = new TreeSet<>();
                for (String name : props.stringPropertyNames()) {
                    String value = props.getProperty(name);
                    if (value.startsWith("![") && value.endsWith("]")) out.add(name + "=" + decryptValue(f, value));
                }
                return String.join(" ", out);
            }
            case "Y": {
                Pattern p = Pattern.compile("^\\s*(?:-\\s+)?([^\\s:#][^:#]*):\\s+\"(!\\[[A-Za-z0-9+/=]*\\])\"");
                TreeSet<String> out = new TreeSet<>();
                List<String> lines = Files.readAllLines(Path.of(f[5]), StandardCharsets.UTF_8);
                for (String line : lines) {
                    Matcher m = p.matcher(line);
                    if (m.find()) out.add(m.group(1) + "=" + decryptValue(f, m.group(2)));
                }
                return String.join(" ", out);
            }
            default:
                return "ERROR unknown operation " + f[0];
        }
    }

    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
            if (line.isEmpty()) continue;
            String result;
            try {
                result = run(line.split("\t", -1));
            } catch (Exception e) {
                result = "ERROR " + e;
            }
            System.out.println(result);
        }
    }
}
