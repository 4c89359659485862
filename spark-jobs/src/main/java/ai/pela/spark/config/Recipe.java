package ai.pela.spark.config;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * A run's configuration: the defaults (resource {@code pela-defaults.conf}), overridden by a HOCON recipe file,
 * overridden by {@code --set key=value}. Keys are validated against the defaults, so a misspelt key is an error
 * rather than a silently ignored setting. Immutable and serialisable (it travels to executors as its rendering).
 */
public final class Recipe implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final String ROOT = "pela";
    /** A recipe is a page of HOCON; anything larger is not one. */
    private static final long MAX_RECIPE_BYTES = 1 << 20;
    /** {@code hdfs://…}, {@code s3a://…}, {@code file:/…}; anything else is a local path, whatever its characters. */
    private static final Pattern HAS_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:/");

    private final String rendered;
    private transient Config config;

    private Recipe(Config resolved) {
        this.config = resolved;
        this.rendered = resolved.root().render(ConfigRenderOptions.concise());
    }

    public static Config defaults() {
        return ConfigFactory.parseResources(Recipe.class, "/pela-defaults.conf");
    }

    /**
     * @param recipeFile a HOCON file or null
     * @param overrides  {@code key=value} strings; keys may omit the leading {@code pela.}
     */
    public static Recipe load(File recipeFile, List<String> overrides) {
        return load(recipeFile, Map.of(), overrides);
    }

    /**
     * As {@link #load(File, List)}, with {@code settings} between the recipe and the overrides: typed values a command
     * derives itself (the demo's data root, train-head's --backbone), which the user's {@code --set} still overrides.
     *
     * @param settings keys (without the leading {@code pela.}) to values: strings, numbers, booleans or lists
     */
    public static Recipe load(File recipeFile, Map<String, ?> settings, List<String> overrides) {
        Config recipe = null;
        if (recipeFile != null) {
            if (!recipeFile.isFile()) {
                throw new PelaException(recipeFile + ": recipe file does not exist");
            }
            try {
                recipe = ConfigFactory.parseFile(recipeFile);
            } catch (ConfigException e) {
                throw new PelaException(recipeFile + ": " + e.getMessage(), e);
            }
        }
        return load(recipe, recipeFile == null ? null : recipeFile.toString(), settings, overrides);
    }

    /**
     * A recipe at any Hadoop location ({@code hdfs://}, {@code s3a://}, {@code file:}) or a local path, so that a
     * driver on a cluster can read it from shared storage.
     *
     * <p>It is read through a FileSystem instance of its own, closed afterwards: Hadoop caches one FileSystem per
     * scheme, authority and user, configured by whichever caller comes first, and the job's own reads and writes
     * must get the instance made from the SparkContext's configuration ({@code spark.hadoop.*} — replication,
     * credentials), not one made here before that context exists.
     *
     * @param location a recipe's location or null
     * @param overrides {@code key=value} strings; keys may omit the leading {@code pela.}
     * @param hadoop the configuration to reach {@code location} with
     */
    public static Recipe load(String location, List<String> overrides, Configuration hadoop) {
        return load(location, Map.of(), overrides, hadoop);
    }

    /** As {@link #load(String, List, Configuration)}, with {@code settings} as in {@link #load(File, Map, List)}. */
    public static Recipe load(String location, Map<String, ?> settings, List<String> overrides, Configuration hadoop) {
        if (location == null) {
            return load((File) null, settings, overrides);
        }
        if (!HAS_SCHEME.matcher(location).find()) {
            return load(new File(location), settings, overrides);
        }
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
        if ("file".equals(p.toUri().getScheme())) {
            return load(new File(p.toUri().getPath()), settings, overrides);
        }
        String text;
        try (FileSystem fs = FileSystem.newInstance(p.toUri(), hadoop)) {
            FileStatus st = fs.getFileStatus(p);
            if (st.isDirectory()) {
                throw new PelaException(location + ": a directory, not a recipe file");
            }
            if (st.getLen() > MAX_RECIPE_BYTES) {
                throw new PelaException(location + ": recipe of " + st.getLen() + " bytes exceeds the limit of "
                        + MAX_RECIPE_BYTES);
            }
            try (InputStream in = fs.open(p)) {
                text = new String(in.readNBytes((int) st.getLen()), StandardCharsets.UTF_8);
            }
        } catch (FileNotFoundException e) {
            throw new PelaException(location + ": recipe file does not exist");
        } catch (IOException e) {
            throw new PelaException(location + ": cannot read the recipe: " + e.getMessage(), e);
        }
        try {
            return load(ConfigFactory.parseString(text, ConfigParseOptions.defaults().setOriginDescription(location)),
                    location, settings, overrides);
        } catch (ConfigException e) {
            throw new PelaException(location + ": " + e.getMessage(), e);
        }
    }

    private static Recipe load(Config recipe, String source, Map<String, ?> settings, List<String> overrides) {
        Config cfg = ConfigFactory.empty();
        for (String o : overrides) {
            cfg = parseOverride(o).withFallback(cfg);
        }
        for (Map.Entry<String, ?> e : settings.entrySet()) {
            cfg = cfg.withFallback(ConfigFactory.empty().withValue(ROOT + "." + e.getKey(),
                    ConfigValueFactory.fromAnyRef(e.getValue())));
        }
        if (recipe != null) {
            cfg = cfg.withFallback(recipe);
        }
        checkKnownKeys(cfg, source == null ? "configuration" : source);
        try {
            return new Recipe(cfg.withFallback(defaults()).resolve());
        } catch (ConfigException e) {
            throw new PelaException("configuration: " + e.getMessage(), e);
        }
    }

    public static Recipe parse(String hocon) {
        Config cfg = ConfigFactory.parseString(hocon);
        checkKnownKeys(cfg, "configuration");
        return new Recipe(cfg.withFallback(defaults()).resolve());
    }

    private static Config parseOverride(String o) {
        int eq = o.indexOf('=');
        if (eq <= 0) {
            throw new PelaException("--set '" + o + "': expected key=value");
        }
        String key = o.substring(0, eq).trim();
        if (!key.startsWith(ROOT + ".")) {
            key = ROOT + "." + key;
        }
        String value = o.substring(eq + 1).trim();
        try {
            // Parse the value as HOCON so lists and numbers keep their types; fall back to a plain string.
            return ConfigFactory.parseString(key + " = " + value);
        } catch (ConfigException e) {
            return ConfigFactory.empty().withValue(key, ConfigValueFactory.fromAnyRef(value));
        }
    }

    private static void checkKnownKeys(Config cfg, String source) {
        Set<String> known = new TreeSet<>();
        defaults().entrySet().forEach(e -> known.add(e.getKey()));
        List<String> unknown = new ArrayList<>();
        cfg.entrySet().forEach(e -> {
            if (!known.contains(e.getKey())) {
                unknown.add(e.getKey());
            }
        });
        if (!unknown.isEmpty()) {
            throw new PelaException(source + ": unknown configuration key" + (unknown.size() > 1 ? "s " : " ")
                    + unknown + " (see spark-jobs/src/main/resources/pela-defaults.conf for every key)");
        }
    }

    private Config c() {
        if (config == null) {
            config = ConfigFactory.parseString(rendered);
        }
        return config;
    }

    /** The resolved configuration as HOCON, written into the run directory. */
    public String render() {
        return c().root().render(ConfigRenderOptions.defaults().setOriginComments(false).setJson(false)) + "\n";
    }

    public String string(String key) {
        try {
            return c().getString(ROOT + "." + key);
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "': " + e.getMessage(), e);
        }
    }

    public int integer(String key) {
        try {
            return c().getInt(ROOT + "." + key);
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be an integer: " + e.getMessage(), e);
        }
    }

    public long longValue(String key) {
        try {
            return c().getLong(ROOT + "." + key);
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be an integer: " + e.getMessage(), e);
        }
    }

    public double number(String key) {
        try {
            return c().getDouble(ROOT + "." + key);
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be a number: " + e.getMessage(), e);
        }
    }

    public boolean flag(String key) {
        try {
            return c().getBoolean(ROOT + "." + key);
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be true or false: " + e.getMessage(), e);
        }
    }

    public List<String> strings(String key) {
        try {
            return c().getStringList(ROOT + "." + key);
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be a list of strings: " + e.getMessage(), e);
        }
    }

    /** A list of strings, or null where the key holds the single word {@code word} (e.g. "family": a default). */
    public List<String> stringsOr(String key, String word) {
        try {
            if (c().getValue(ROOT + "." + key).valueType() == com.typesafe.config.ConfigValueType.STRING) {
                String v = c().getString(ROOT + "." + key);
                if (!v.equals(word)) {
                    throw new PelaException("configuration key '" + ROOT + "." + key + "' must be a list of strings or \""
                            + word + "\", got '" + v + "'");
                }
                return null;
            }
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "': " + e.getMessage(), e);
        }
        return strings(key);
    }

    public List<Double> numbers(String key) {
        try {
            return c().getDoubleList(ROOT + "." + key);
        } catch (ConfigException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be a list of numbers: " + e.getMessage(), e);
        }
    }

    public int positive(String key) {
        int v = integer(key);
        if (v < 1) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be >= 1, got " + v);
        }
        return v;
    }

    public FdForm fdForm() {
        return choice("loss.fd-form", FdForm.class);
    }

    public RwpForm rwpForm() {
        return choice("loss.rwp-form", RwpForm.class);
    }

    public <E extends Enum<E>> E choice(String key, Class<E> type) {
        String v = string(key);
        try {
            return choiceOf(v, type);
        } catch (IllegalArgumentException e) {
            throw new PelaException("configuration key '" + ROOT + "." + key + "' must be one of " + choices(type) + ", got '" + v + "'");
        }
    }

    /**
     * The constant {@code value} names as recipes write it (lower case, '-' for '_'); the command line's options
     * read their choices through this too, so both doors take the same spellings.
     *
     * @throws IllegalArgumentException when no constant has that name
     */
    public static <E extends Enum<E>> E choiceOf(String value, Class<E> type) {
        return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** The names {@link #choiceOf} accepts, for error messages. */
    public static <E extends Enum<E>> List<String> choices(Class<E> type) {
        List<String> allowed = new ArrayList<>();
        for (E x : type.getEnumConstants()) {
            allowed.add(spelled(x));
        }
        return allowed;
    }

    /** How a recipe writes {@code value}: the inverse of {@link #choiceOf}. */
    public static String spelled(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** A copy with {@code key} set (used by jobs that derive settings, e.g. the demo). */
    public Recipe with(String key, Object value) {
        return new Recipe(c().withValue(ROOT + "." + key, ConfigValueFactory.fromAnyRef(value)));
    }
}
