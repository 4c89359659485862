package ai.pela.spark.data;

import java.util.List;

/**
 * An image-text retrieval test set as ALBEF's {@code re_eval_dataset} holds it: the images (each a sample whose
 * label is its index here), every caption of every image in one text list, and the maps between them: text t
 * describes image {@code txt2img[t]}; image i is described by texts {@code img2txt[i]} (consecutive, in file order).
 */
public record RetrievalEvalSet(List<Sample> images, List<String> texts, int[] txt2img, int[][] img2txt) {
    public RetrievalEvalSet {
        images = List.copyOf(images);
        texts = List.copyOf(texts);
        if (txt2img.length != texts.size() || img2txt.length != images.size()) {
            throw new IllegalArgumentException(txt2img.length + " txt2img entries for " + texts.size() + " texts, "
                    + img2txt.length + " img2txt entries for " + images.size() + " images");
        }
    }

    /** Builds the maps from the images' own captions, in order. */
    static RetrievalEvalSet of(List<Sample> images) {
        int total = images.stream().mapToInt(s -> s.captions().texts().size()).sum();
        String[] texts = new String[total];
        int[] txt2img = new int[total];
        int[][] img2txt = new int[images.size()][];
        int t = 0;
        for (int i = 0; i < images.size(); i++) {
            List<String> captions = images.get(i).captions().texts();
            img2txt[i] = new int[captions.size()];
            for (int c = 0; c < captions.size(); c++, t++) {
                texts[t] = captions.get(c);
                txt2img[t] = i;
                img2txt[i][c] = t;
            }
        }
        return new RetrievalEvalSet(images, List.of(texts), txt2img, img2txt);
    }
}
