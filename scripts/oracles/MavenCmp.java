// Maven's ComparableVersion on many pairs: "a<TAB>b" lines in, -1/0/1 lines out.
// Run: java -cp /usr/share/maven/lib/maven-artifact-3.x.jar scripts/oracles/MavenCmp.java
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenCmp {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            int t = line.indexOf('\t');
            int c = new ComparableVersion(line.substring(0, t)).compareTo(new ComparableVersion(line.substring(t + 1)));
            out.append(c < 0 ? "-1" : (c > 0 ? "1" : "0")).append('\n');
        }
        System.out.print(out);
    }
}
