package ai.pela.spark.demo;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws one forged scene: 1 to {@code maxItems} real Fashion-MNIST items, each scaled (nearest neighbour) and tinted,
 * on a smooth coloured background, with its exact label map and boxes.
 *
 * <p>Exactness is by construction: an item pixel belongs to the object when its scaled grey value exceeds
 * {@link #THRESHOLD}; only those pixels are painted (so the image shows exactly the mask) and labelled, and the box is
 * the tight box of the mask. Items are placed in squares that do not overlap, so no object hides another and every
 * mask is the object's whole visible extent.
 */
final class SceneForge {
    /** Grey values above this (of 255) are the item; Fashion-MNIST's backgrounds are 0 and its edges faint. */
    static final int THRESHOLD = 32;
    /** Item sides in pixels (1×, 1.5×, 2×, 3×, 4×, 4.5× the 28-pixel original): small, medium and large COCO objects. */
    private static final int[] SIDES = {28, 42, 56, 84, 112, 126};
    private static final int PLACEMENT_TRIES = 30;
    private static final int ITEM_SIDE = 28;
    private static final int NOISE = 12;
    private static final int[] WHITE = {255, 255, 255};

    /**
     * One placed object: its Fashion-MNIST class (0..9), tight box (x, y, w, h in pixels), mask area, and mask over
     * the whole canvas (row-major, true where this object is).
     */
    record Placed(int fashionClass, int x, int y, int w, int h, int area, boolean[] mask) {
    }

    record Scene(BufferedImage image, byte[] label, List<Placed> objects) {
    }

    private SceneForge() {
    }

    /**
     * A scene of {@code size}×{@code size} pixels from the items of {@code split}, drawn entirely from {@code rng}.
     * {@code label} holds 0 for background and the item's class + 1 elsewhere, row-major.
     */
    static Scene forge(FashionMnistExport.Split split, int size, int maxItems, SplittableRandom rng) {
        return forge(split, size, maxItems, false, rng);
    }

    /** With {@code plain}: black background and white tint, so an item's pixels are its own grey values. */
    static Scene forge(FashionMnistExport.Split split, int size, int maxItems, boolean plain, SplittableRandom rng) {
        int[] rgb = plain ? new int[size * size] : background(size, rng);
        byte[] label = new byte[size * size];
        List<Placed> objects = new ArrayList<>();
        List<int[]> squares = new ArrayList<>();
        int items = 1 + rng.nextInt(maxItems);
        for (int i = 0; i < items; i++) {
            int item = rng.nextInt(split.count());
            int side = side(size, rng);
            int[] square = place(size, side, squares, rng);
            if (square == null) {
                continue;
            }
            squares.add(square);
            Placed p = paint(split, item, square, size, plain ? WHITE : tint(rng), rgb, label);
            if (p != null) {
                objects.add(p);
            }
        }
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, size, size, rgb, 0, size);
        return new Scene(image, label, objects);
    }

    /** A scene with one random item in each of the given squares {x, y, side} (caption forging chooses them). */
    static Scene forgeAt(FashionMnistExport.Split split, int size, List<int[]> squares, boolean plain,
            SplittableRandom rng) {
        int[] rgb = plain ? new int[size * size] : background(size, rng);
        byte[] label = new byte[size * size];
        List<Placed> objects = new ArrayList<>();
        for (int[] square : squares) {
            Placed p = paint(split, rng.nextInt(split.count()), square, size, plain ? WHITE : tint(rng), rgb, label);
            if (p != null) {
                objects.add(p);
            }
        }
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, size, size, rgb, 0, size);
        return new Scene(image, label, objects);
    }

    private static int side(int size, SplittableRandom rng) {
        int allowed = 0;
        while (allowed < SIDES.length && SIDES[allowed] <= size) {
            allowed++;
        }
        if (allowed == 0) {
            throw new IllegalArgumentException("canvas of " + size + " pixels is smaller than an item (" + SIDES[0] + ")");
        }
        return SIDES[rng.nextInt(allowed)];
    }

    /** A free square {x, y, side} of the canvas, or null when none was found in a few random tries. */
    private static int[] place(int size, int side, List<int[]> taken, SplittableRandom rng) {
        for (int t = 0; t < PLACEMENT_TRIES; t++) {
            int x = rng.nextInt(size - side + 1);
            int y = rng.nextInt(size - side + 1);
            if (taken.stream().noneMatch(s -> overlaps(s, x, y, side))) {
                return new int[] {x, y, side};
            }
        }
        return null;
    }

    private static boolean overlaps(int[] s, int x, int y, int side) {
        return x < s[0] + s[2] && s[0] < x + side && y < s[1] + s[2] && s[1] < y + side;
    }

    /** A vertical-diagonal gradient between two random colours with a little per-pixel noise. */
    private static int[] background(int size, SplittableRandom rng) {
        int[] from = randomColour(rng, 0, 200);
        int[] to = randomColour(rng, 0, 200);
        int[] rgb = new int[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double f = (x + y) / (2.0 * (size - 1));
                int[] c = new int[3];
                for (int k = 0; k < 3; k++) {
                    c[k] = clamp((int) Math.round(from[k] + f * (to[k] - from[k])) + rng.nextInt(-NOISE, NOISE + 1));
                }
                rgb[y * size + x] = c[0] << 16 | c[1] << 8 | c[2];
            }
        }
        return rgb;
    }

    /** A bright colour for an item, so that items stand out from most backgrounds. */
    private static int[] tint(SplittableRandom rng) {
        return randomColour(rng, 90, 256);
    }

    private static int[] randomColour(SplittableRandom rng, int lo, int hi) {
        return new int[] {rng.nextInt(lo, hi), rng.nextInt(lo, hi), rng.nextInt(lo, hi)};
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /**
     * Paints item {@code item} into {@code square}, blending its tint over the background in proportion to the grey
     * value, and labels its mask; returns the object, or null when no pixel passed the threshold.
     */
    private static Placed paint(FashionMnistExport.Split split, int item, int[] square, int size, int[] tint,
            int[] rgb, byte[] label) {
        int side = square[2];
        int fashionClass = split.label(item);
        boolean[] mask = new boolean[size * size];
        int minX = Integer.MAX_VALUE;
        int minY = Integer.MAX_VALUE;
        int maxX = -1;
        int maxY = -1;
        int area = 0;
        for (int sy = 0; sy < side; sy++) {
            for (int sx = 0; sx < side; sx++) {
                int v = grey(split, item, sx * ITEM_SIDE / side, sy * ITEM_SIDE / side);
                if (v <= THRESHOLD) {
                    continue;
                }
                int x = square[0] + sx;
                int y = square[1] + sy;
                int p = y * size + x;
                rgb[p] = blend(rgb[p], tint, v / 255.0);
                label[p] = (byte) (fashionClass + 1);
                mask[p] = true;
                area++;
                minX = Math.min(minX, x);
                minY = Math.min(minY, y);
                maxX = Math.max(maxX, x);
                maxY = Math.max(maxY, y);
            }
        }
        if (area == 0) {
            return null;
        }
        return new Placed(fashionClass, minX, minY, maxX - minX + 1, maxY - minY + 1, area, mask);
    }

    private static int grey(FashionMnistExport.Split split, int item, int x, int y) {
        return split.pixels()[item * ITEM_SIDE * ITEM_SIDE + y * ITEM_SIDE + x] & 0xff;
    }

    private static int blend(int background, int[] tint, double alpha) {
        int out = 0;
        for (int k = 0; k < 3; k++) {
            int b = background >> (16 - 8 * k) & 0xff;
            int c = (int) Math.round(b * (1 - alpha) + tint[k] * alpha);
            out |= clamp(c) << (16 - 8 * k);
        }
        return out;
    }
}
