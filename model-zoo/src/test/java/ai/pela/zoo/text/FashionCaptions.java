package ai.pela.zoo.text;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Captions of Fashion-MNIST scenes, as a caption forge writes them for canvases of clothing items: the ten classes
 * under their everyday names, spatial relations, counts, sizes and shades, in several sentence forms. Distinct,
 * seeded, in generation order.
 */
public final class FashionCaptions {
    public static final List<String> ITEMS = List.of("t-shirt", "pair of trousers", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle boot");
    private static final List<String> PLURALS = List.of("t-shirts", "pairs of trousers", "pullovers", "dresses",
            "coats", "sandals", "shirts", "sneakers", "bags", "ankle boots");
    private static final List<String> RELATIONS = List.of("to the left of", "to the right of", "above", "below",
            "next to", "on top of", "far from", "close to");
    private static final List<String> LOOKS = List.of("small", "large", "bright", "dark", "grey", "faded", "tiny",
            "big", "light", "worn");
    private static final List<String> COUNTS = List.of("two", "three", "four", "five");

    private FashionCaptions() {
    }

    public static List<String> generate(int n, long seed) {
        Random rng = new Random(seed);
        Set<String> out = new LinkedHashSet<>();
        while (out.size() < n) {
            out.add(sentence(rng));
        }
        return new ArrayList<>(out);
    }

    private static String sentence(Random r) {
        String a = pick(r, ITEMS);
        String b = pick(r, ITEMS);
        return switch (r.nextInt(7)) {
            case 0 -> "a " + a + " " + pick(r, RELATIONS) + " a " + b;
            case 1 -> "a " + pick(r, LOOKS) + " " + a + " " + pick(r, RELATIONS) + " a " + pick(r, LOOKS) + " " + b;
            case 2 -> pick(r, COUNTS) + " " + pick(r, PLURALS) + " " + pick(r, RELATIONS) + " a " + b;
            case 3 -> "a photo of a " + pick(r, LOOKS) + " " + a + " on a black background";
            case 4 -> "there is a " + a + " " + pick(r, RELATIONS) + " the " + b + " and a " + pick(r, ITEMS) + " below them";
            case 5 -> "the " + a + " is " + pick(r, RELATIONS) + " the " + pick(r, LOOKS) + " " + b;
            default -> "a " + pick(r, LOOKS) + " " + a + ", a " + b + " and a " + pick(r, ITEMS);
        };
    }

    private static String pick(Random r, List<String> options) {
        return options.get(r.nextInt(options.size()));
    }
}
