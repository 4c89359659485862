package ai.pela.zoo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MlmMaskingTest {
    private static final BertTokenizer BERT = BertTokenizer.bertBaseUncased();
    private final MlmMasking masking = new MlmMasking(BERT, 0.15);

    /** 64 captions of 6 to 20 words, padded to the longest: plenty of real tokens and of padding. */
    private static TokenBatch captions() {
        String[] words = {"a", "sneaker", "to", "the", "left", "of", "shirt", "bag", "above", "two", "coats", "and"};
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            StringBuilder s = new StringBuilder();
            for (int w = 0; w < 6 + i % 15; w++) {
                s.append(words[(i * 7 + w * 3) % words.length]).append(' ');
            }
            texts.add(s.toString());
        }
        return BERT.encodeBatch(texts, 30, BertTokenizer.Padding.LONGEST);
    }

    @Test
    void sameSeedSameMaskOtherSeedOtherMask() {
        TokenBatch b = captions();
        MlmMasking.Masked one = masking.mask(b, 42);
        MlmMasking.Masked again = masking.mask(b, 42);
        assertThat(again.inputIds()).containsExactly(one.inputIds());
        assertThat(again.labels()).containsExactly(one.labels());
        assertThat(masking.mask(b, 43).labels()).isNotEqualTo(one.labels());
        assertThat(b.ids()).as("the batch itself is left alone").isNotEqualTo(one.inputIds());
    }

    @Test
    void specialTokensAndPaddingAreNeverMasked() {
        TokenBatch b = captions();
        for (long seed = 0; seed < 20; seed++) {
            MlmMasking.Masked m = masking.mask(b, seed);
            for (int i = 0; i < b.ids().length; i++) {
                int id = b.ids()[i];
                boolean special = b.mask()[i] == 0 || id == BERT.clsId() || id == BERT.sepId();
                if (special) {
                    assertThat(m.labels()[i]).isEqualTo(MlmMasking.IGNORE);
                    assertThat(m.inputIds()[i]).isEqualTo(id);
                } else if (m.labels()[i] == MlmMasking.IGNORE) {
                    assertThat(m.inputIds()[i]).isEqualTo(id);
                } else {
                    assertThat(m.labels()[i]).isEqualTo(id);
                }
            }
        }
    }

    /** Over ~70,000 eligible tokens the rates are within a few standard deviations of 15 % and 80/10/10. */
    @Test
    void ratesAreThoseOfBert() {
        TokenBatch b = captions();
        long eligible = 0;
        long chosen = 0;
        long masked = 0;
        long random = 0;
        long kept = 0;
        for (long seed = 0; seed < 100; seed++) {
            MlmMasking.Masked m = masking.mask(b, seed);
            for (int i = 0; i < b.ids().length; i++) {
                int id = b.ids()[i];
                if (b.mask()[i] == 0 || id == BERT.clsId() || id == BERT.sepId()) {
                    continue;
                }
                eligible++;
                if (m.labels()[i] == MlmMasking.IGNORE) {
                    continue;
                }
                chosen++;
                int in = m.inputIds()[i];
                if (in == BERT.maskId()) {
                    masked++;
                } else if (in == id) {
                    kept++;
                } else {
                    random++;
                }
            }
        }
        assertThat(eligible).isGreaterThan(60_000);
        assertThat((double) chosen / eligible).isCloseTo(0.15, within(0.006));
        assertThat((double) masked / chosen).isCloseTo(0.80, within(0.015));
        // A random draw can hit the original token (1 in 30,522), which then counts as kept: negligible here.
        assertThat((double) random / chosen).isCloseTo(0.10, within(0.012));
        assertThat((double) kept / chosen).isCloseTo(0.10, within(0.012));
    }

    @Test
    void probabilityZeroMasksNothingAndOneMasksEveryEligibleToken() {
        TokenBatch b = captions();
        assertThat(new MlmMasking(BERT, 0).mask(b, 1).labels()).containsOnly(MlmMasking.IGNORE);
        MlmMasking.Masked all = new MlmMasking(BERT, 1).mask(b, 1);
        long eligible = 0;
        for (int i = 0; i < b.ids().length; i++) {
            int id = b.ids()[i];
            if (b.mask()[i] == 1 && id != BERT.clsId() && id != BERT.sepId()) {
                eligible++;
            }
        }
        assertThat(java.util.Arrays.stream(all.labels()).filter(l -> l != MlmMasking.IGNORE).count())
                .isEqualTo(eligible);
        assertThat(all.inputIdsArray().shape()).containsExactly(b.batch(), b.length());
    }
}
