import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;

/**
 * The JDK's own keytool, run many times in one JVM: the oracle of the edit tests without one JVM
 * start per listing.
 *
 * <p>Reads one keytool command line per line on stdin, arguments separated by tabs (e.g.
 * "-list\t-v\t-keystore\tF\t-storepass\tP"), and runs it through sun.security.tools.keytool.Main
 * exactly as the keytool command does (its run(String[], PrintStream), reached by reflection; run
 * with --add-opens java.base/sun.security.tools.keytool=ALL-UNNAMED). After each command's
 * output it prints a line "@@END 0" (success) or "@@END 1" (keytool reported an error, whose text
 * precedes the line).
 */
public final class KeytoolBatch {
    private KeytoolBatch() {
    }

    public static void main(String[] unused) throws Exception {
        Class<?> main = Class.forName("sun.security.tools.keytool.Main");
        Constructor<?> make = main.getDeclaredConstructor();
        make.setAccessible(true);
        Method run = main.getDeclaredMethod("run", String[].class, PrintStream.class);
        run.setAccessible(true);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
            int code = 0;
            try {
                run.invoke(make.newInstance(), line.split("\t", -1), out);
            } catch (InvocationTargetException e) {
                code = 1;
                out.println("keytool error: " + e.getCause());
            }
            System.out.print(buffer.toString(StandardCharsets.UTF_8));
            System.out.println("@@END " + code);
            System.out.flush();
        }
    }
}
