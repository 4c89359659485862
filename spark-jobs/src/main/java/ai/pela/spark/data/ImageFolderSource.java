package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * A dataset in the ImageNet folder layout {@code root/<split>/<class>/<image>} on any Hadoop file system, listed on
 * the driver. Class indices are the positions of the class folder names in sorted order (as torchvision's
 * {@code ImageFolder} assigns them); samples come class by class, files sorted by name, so a listing is the same
 * on every run.
 *
 * <p>Images are recognised by extension (jpg, jpeg, png, bmp, gif, any case); other files are ignored, and so are
 * entries whose names start with '.' or '_' (hidden files and Hadoop's {@code _SUCCESS} markers) and folders
 * nested inside a class folder. Every problem with the layout fails here, on the driver, before an executor
 * starts on a broken dataset.
 */
public final class ImageFolderSource {
    private static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

    private final Storage storage;
    private final String root;

    public ImageFolderSource(Storage storage, String root) {
        this.storage = storage;
        this.root = root.endsWith("/") && root.length() > 1 ? root.substring(0, root.length() - 1) : root;
    }

    public String root() {
        return root;
    }

    /** The class names of a split, sorted; a class's index is its position in this list. */
    public List<String> classes(String split) {
        return classDirs(split).stream().map(d -> d.getPath().getName()).toList();
    }

    /** Every image of the split, class by class and by file name within a class. */
    public List<Sample> list(String split) {
        List<FileStatus> dirs = classDirs(split);
        List<Sample> samples = new ArrayList<>();
        for (int label = 0; label < dirs.size(); label++) {
            Path dir = dirs.get(label).getPath();
            List<Path> images = images(dir);
            if (images.isEmpty()) {
                throw new PelaException(dir + ": empty class folder (no " + extensionList() + " files)");
            }
            for (Path image : images) {
                samples.add(Sample.file(image.toString(), label));
            }
        }
        return samples;
    }

    /**
     * Fails unless both splits have the same class folders: a class index means the same class only if the
     * sorted lists are equal. Returns the common class list.
     */
    public List<String> checkSameClasses(String trainSplit, String valSplit) {
        List<String> train = classes(trainSplit);
        List<String> val = classes(valSplit);
        if (train.equals(val)) {
            return train;
        }
        Set<String> missing = new TreeSet<>(train);
        missing.removeAll(val);
        Set<String> extra = new TreeSet<>(val);
        extra.removeAll(train);
        throw new PelaException(splitPath(valSplit) + ": class folders differ from " + splitPath(trainSplit)
                + " (" + train.size() + " vs " + val.size() + " classes; missing: " + sample(missing)
                + "; not in " + trainSplit + ": " + sample(extra) + ")");
    }

    private List<FileStatus> classDirs(String split) {
        Path dir = splitPath(split);
        if (!storage.isDirectory(dir)) {
            throw new PelaException(dir + ": split directory does not exist (expected " + root + "/" + split
                    + "/<class>/<image>)");
        }
        List<FileStatus> dirs = new ArrayList<>();
        int looseImages = 0;
        for (FileStatus st : storage.list(dir)) {
            if (hidden(st.getPath())) {
                continue;
            }
            if (st.isDirectory()) {
                dirs.add(st);
            } else if (isImage(st.getPath().getName())) {
                looseImages++;
            }
        }
        if (dirs.isEmpty()) {
            String found = looseImages > 0 ? looseImages + " images lie directly in it" : "no images either";
            throw new PelaException(dir + ": no class folders, " + found + " (expected " + dir
                    + "/<class>/<image>)");
        }
        return dirs;
    }

    private List<Path> images(Path classDir) {
        List<Path> out = new ArrayList<>();
        for (FileStatus st : storage.list(classDir)) {
            if (st.isFile() && !hidden(st.getPath()) && isImage(st.getPath().getName())) {
                out.add(st.getPath());
            }
        }
        return out;
    }

    private Path splitPath(String split) {
        return Storage.path(root + "/" + split);
    }

    static boolean isImage(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private static boolean hidden(Path p) {
        String name = p.getName();
        return name.startsWith(".") || name.startsWith("_");
    }

    private static String extensionList() {
        return String.join("/", new TreeSet<>(EXTENSIONS));
    }

    /** At most five names, so a message about a thousand-class dataset stays one readable line. */
    private static String sample(Set<String> names) {
        if (names.isEmpty()) {
            return "none";
        }
        List<String> first = names.stream().limit(5).toList();
        return String.join(", ", first) + (names.size() > 5 ? " and " + (names.size() - 5) + " more" : "");
    }
}
