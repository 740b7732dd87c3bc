import java.nio.file.Path;
import org.opensearch.common.settings.KeyStoreWrapper;

/**
 * Writes an empty, password-less opensearch.keystore into the directory given (what the upstream
 * `opensearch-keystore create` does, which is not published on Maven Central). A node creates
 * one on its first start when none exists, and so needs a writable config directory; with one
 * made at build time, the installed tool stays read-only for the node.
 */
public final class CreateKeystore {
    public static void main(String[] args) throws Exception {
        KeyStoreWrapper.create().save(Path.of(args[0]), new char[0]);
    }
}
