import java.nio.file.Path;

/**
 * Writes an empty, password-less keystore into a node's config directory (what the upstream
 * `opensearch-keystore create` / `elasticsearch-keystore create` does; neither tool is on Maven
 * Central). A node creates one at its first start when none exists, and so needs a writable
 * config directory; with one made at build time, the installed tool stays read-only for the node.
 *
 * Usage: java -cp 'lib/*' CreateKeystore.java CONFIG_DIR KEYSTORE_WRAPPER_CLASS
 * (org.opensearch.common.settings.KeyStoreWrapper or org.elasticsearch.common.settings.KeyStoreWrapper).
 */
public final class CreateKeystore {
    public static void main(String[] args) throws Exception {
        Class<?> wrapper = Class.forName(args[1]);
        Object keystore = wrapper.getMethod("create").invoke(null);
        wrapper.getMethod("save", Path.class, char[].class).invoke(keystore, Path.of(args[0]), new char[0]);
    }
}
