// Minimal launcher for a local, single-node OpenSearch 2.19 started from plain
// Maven jars (see pom.xml next to this file; deploy/local/opensearch.sh
// compiles and runs it).
//
// Why not org.opensearch.bootstrap.OpenSearch: the real bootstrap expects the
// distribution layout (modules/ directory with plugin descriptors, jvm.options,
// ...), installs the security manager and refuses to run as root. Here the
// modules we need are plain jars on the classpath, so we construct the Node
// ourselves through the protected constructor that takes plugin classes, the
// same way OpenSearch's own test framework (MockNode) does. None of the
// bootstrap code runs: no root check, no security manager, no JNA/seccomp,
// no jar-hell check, no bootstrap checks.
//
// Usage: java -Dopensearch.path.home=HOME -cp 'HOME/lib/*:HOME/classes' Launcher \
//             [-E]key=value ...
// Settings are given as key=value arguments (an optional leading -E is
// accepted, like the opensearch CLI); HOME/config/log4j2.properties configures
// logging. The process runs until it gets SIGTERM/SIGINT, then closes the node.

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public final class Launcher {

    // Modules the local stack needs, referenced as classes so that a missing
    // jar is a compile error rather than a silently absent feature.
    private static final List<Class<? extends Plugin>> MODULES = Arrays.asList(
        org.opensearch.transport.Netty4Plugin.class,                // HTTP + transport
        org.opensearch.analysis.common.CommonAnalysisPlugin.class,  // cjk_bigram, ...
        org.opensearch.painless.PainlessPlugin.class                // painless scripts
    );

    /** Node subclass only to reach the protected (env, plugins, forbidPrivateIndexSettings) constructor. */
    private static final class LocalNode extends Node {
        LocalNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        String home = System.getProperty("opensearch.path.home");
        if (home == null || home.isEmpty()) {
            System.err.println("Launcher: -Dopensearch.path.home=DIR is required");
            System.exit(2);
        }

        // key=value (or -Ekey=value) arguments, applied like the CLI's -E options.
        Map<String, String> cli = new HashMap<>();
        for (String a : args) {
            String kv = a.startsWith("-E") ? a.substring(2) : a;
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                System.err.println("Launcher: expected key=value, got: " + a);
                System.exit(2);
            }
            cli.put(kv.substring(0, eq), kv.substring(eq + 1));
        }

        Path configDir = Paths.get(home, "config");
        Settings input = Settings.builder().put("path.home", home).build();
        Environment env = InternalSettingsPreparer.prepareEnvironment(
            input, cli, configDir, () -> "local");

        // Same order as the real bootstrap: error listener, node name (needed by the
        // %node_name pattern), then config/log4j2*.properties. LogConfigurator also
        // exports opensearch.logs.* system properties derived from path.logs.
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(env.settings()));
        LogConfigurator.configure(env);

        final Node node = new LocalNode(env, MODULES);
        final CountDownLatch stopped = new CountDownLatch(1);

        // OpenSearch threads are daemon threads: the main thread keeps the JVM alive
        // until SIGTERM/SIGINT, when the hook closes the node cleanly (flushes shards).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "opensearch-local-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        stopped.await();
    }
}
