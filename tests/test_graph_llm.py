"""GraphLLM on a tiny random Llama with SmolLM2's real tokenizer: soft tokens, scoring ids, learning, checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data
from transformers import AutoTokenizer, LlamaForCausalLM

from kragrec.config import Settings
from kragrec.models.batch_scores import scored_batches
from kragrec.models.checkpoint import load_trained_parts, save_trained_parts
from kragrec.models.choices import DEFAULT_LLM, LETTER_ANSWER, TITLE_ANSWER, AnswerFormat
from kragrec.models.collate import EncodedSample, collate
from kragrec.models.graph_encoder import GraphEncoder, Projector
from kragrec.models.graph_llm import GraphLLM, ModelBatch, TitleHead
from kragrec.models.llm import load_tokenizer
from kragrec.models.prompt import GRAPH_SLOT, letter_token_ids, llamarec_prompt, prompt_tokens, recommendation_prompt
from kragrec.wheels import unpacked_file

from conftest import tiny_llama_config

FEATURES = 16


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(DEFAULT_LLM, Settings().cache_dir)


# Llama-2's SentencePiece vocabulary, as llama.cpp ships it for its tokenizer tests (inside the sdist only).
LLAMA_CPP_SDIST = ("llama-cpp-python==0.3.36", "llama_cpp_python-0.3.36.tar.gz")
LLAMA2_VOCAB = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf"
# ids of "▁A" … "▁T" in Llama-2's vocabulary, as the released K-RagRec code scores them
LLAMA2_LETTER_IDS = [319, 350, 315, 360, 382, 383, 402, 379, 306, 435, 476, 365, 341, 405, 438, 349, 660, 390, 317, 323]


@pytest.fixture(scope="module")
def llama2_tokenizer():
    vocab = unpacked_file(*LLAMA_CPP_SDIST, LLAMA2_VOCAB, Settings().cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(vocab.parent, gguf_file=vocab.name)
    assert len(tokenizer) == 32000
    return tokenizer


def tiny_llm(tokenizer, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    return LlamaForCausalLM(tiny_llama_config(len(tokenizer), 64)).eval()


def tiny_graph_llm(
    tokenizer,
    llm_mode="frozen",
    soft_tokens="per-graph",
    seed=0,
    soft_norm="embedding",
    answer_loss="vocab",
    title_head=None,
) -> GraphLLM:
    llm = tiny_llm(tokenizer, seed)
    torch.manual_seed(seed + 1)
    encoder = GraphEncoder(FEATURES, FEATURES, hidden=32, layers=2, heads=4)
    projector = Projector(32, llm.config.hidden_size)
    letters = letter_token_ids(tokenizer, 20)
    return GraphLLM(llm, letters, encoder, projector, llm_mode, soft_tokens, None, soft_norm, answer_loss, title_head)


def random_graph(generator: torch.Generator, nodes: int) -> Data:
    edges = torch.randint(0, nodes, (2, 2 * nodes), generator=generator)
    return Data(
        x=torch.randn(nodes, FEATURES, generator=generator),
        edge_index=edges,
        edge_attr=torch.randn(edges.shape[1], FEATURES, generator=generator),
    )


def samples(tokenizer, graphs_per_sample=(2, 0, 1, 3), answer_format=LETTER_ANSWER, count=20) -> list[EncodedSample]:
    generator = torch.Generator().manual_seed(0)
    encoded = []
    for n, graph_count in enumerate(graphs_per_sample):
        history = [f"Film {n}{k} (199{k})" for k in range(3 + n)]
        candidates = [f"Option {n}-{k}" + " and more" * (k % 3) for k in range(count)]  # titles of several lengths
        prompt = recommendation_prompt(history, candidates, graph_count > 0, answer_format=answer_format)
        tokens = prompt_tokens(tokenizer, prompt, answer_format, candidates)
        graphs = [random_graph(generator, 1 + (k % 3) * 2) for k in range(graph_count)]
        encoded.append(EncodedSample(tokens, graphs, label=(3 * n) % count, num_candidates=count))
    return encoded


def test_option_letters_are_single_tokens_used_for_both_labels_and_scores(tokenizer):
    ids = letter_token_ids(tokenizer, 20)
    assert [tokenizer.decode([i]) for i in ids] == list("ABCDEFGHIJKLMNOPQRST")
    model = tiny_graph_llm(tokenizer)
    batch = collate(samples(tokenizer))
    logits = model.last_logits(batch)
    torch.testing.assert_close(model.scores(batch), logits[:, ids])
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(ids)[batch.labels])
    torch.testing.assert_close(model.loss(batch), expected)


def test_letters_loss_is_the_cross_entropy_of_the_scored_letters_alone(tokenizer):
    batch = collate(samples(tokenizer))
    vocab_loss = tiny_graph_llm(tokenizer).loss(batch)
    model = tiny_graph_llm(tokenizer, answer_loss="letters")
    letters_loss = model.loss(batch)
    torch.testing.assert_close(letters_loss, torch.nn.functional.cross_entropy(model.scores(batch), batch.labels))
    assert vocab_loss > letters_loss + 1.0  # a random 49k-token vocabulary puts little mass on 20 letters


@pytest.mark.parametrize("which", ["smollm2", "llama2"])
def test_scored_ids_are_the_ids_of_the_answer_written_after_the_prompt(tokenizer, llama2_tokenizer, which):
    """Appending a letter's label id to the prompt ids gives the same ids as tokenizing the answered prompt."""
    chosen = {"smollm2": tokenizer, "llama2": llama2_tokenizer}[which]
    ids = letter_token_ids(chosen, 20)
    if which == "llama2":
        assert ids == LLAMA2_LETTER_IDS
    prompt = recommendation_prompt(["Heat (1995)"], [f"Film {n}" for n in range(20)], with_graph=False)
    tokens = prompt_tokens(chosen, prompt)
    prompt_ids = tokens.before + tokens.after
    text = chosen.decode(prompt_ids)
    separator = "" if chosen.chat_template else " "  # chat turns start on a new line; "Answer:" takes " A"
    for letter, label_id in zip("ABCDEFGHIJKLMNOPQRST", ids, strict=True):
        answered = chosen(text + separator + letter, add_special_tokens=False)["input_ids"]
        assert answered == [*prompt_ids, label_id]


def test_prompt_uses_the_chat_template_and_splits_at_the_graph_slot(tokenizer):
    tokens = prompt_tokens(tokenizer, recommendation_prompt(["A film"], ["X", "Y"], with_graph=True))
    before, after = tokenizer.decode(tokens.before), tokenizer.decode(tokens.after)
    assert before.startswith("<|im_start|>system") and before.endswith("Knowledge graph evidence: ")
    assert after.endswith("<|im_start|>assistant\n")
    assert "Options:\nX (A)\nY (B)\n" in after
    # each option's letter is the scored token itself, right after the title
    letter_ids = letter_token_ids(tokenizer, 2)
    assert all(letter_id in tokens.after for letter_id in letter_ids)


@pytest.mark.parametrize(("mode", "expected"), [("per-graph", [2, 0, 1, 3]), ("mean", [1, 0, 1, 1])])
def test_soft_tokens_per_sample(tokenizer, mode, expected):
    model = tiny_graph_llm(tokenizer, soft_tokens=mode)
    tokens = model.graph_tokens(collate(samples(tokenizer)))
    assert [len(t) for t in tokens] == expected
    assert all(t.shape[1] == 64 for t in tokens)


@pytest.mark.parametrize("mode", ["per-graph", "mean"])
def test_soft_tokens_take_the_mean_norm_of_the_token_embeddings(tokenizer, mode):
    words = tiny_llm(tokenizer).get_input_embeddings().weight.norm(dim=1).mean()
    batch = collate(samples(tokenizer))
    scaled = torch.cat(tiny_graph_llm(tokenizer, soft_tokens=mode).graph_tokens(batch))
    raw = torch.cat(tiny_graph_llm(tokenizer, soft_tokens=mode, soft_norm="none").graph_tokens(batch))
    torch.testing.assert_close(scaled.norm(dim=1), words.expand(len(scaled)))
    torch.testing.assert_close(scaled, raw * (words / raw.norm(dim=1, keepdim=True)))  # the direction is kept
    assert not torch.allclose(raw.norm(dim=1), words.expand(len(raw)), rtol=0.05)


def test_grown_encoder_outputs_do_not_saturate_the_projector(tokenizer):
    """Larger last-layer outputs (as training makes them) still give standardised vectors and distinct tokens."""
    batch = collate(samples(tokenizer))
    model = tiny_graph_llm(tokenizer, soft_norm="none")
    with torch.no_grad():
        for parameter in model.encoder.convs[-1].parameters():
            parameter.mul_(100.0)
        pooled = model.encoder(batch.x, batch.edge_index, batch.edge_attr, batch.node_graph, batch.graph_owner.numel())
        hidden = torch.sigmoid(model.projector.layers[0](pooled))
        tokens = model.projector(pooled)
    torch.testing.assert_close(pooled.mean(dim=1), torch.zeros(len(pooled)), atol=1e-4, rtol=0)
    torch.testing.assert_close(pooled.std(dim=1, unbiased=False), torch.ones(len(pooled)), atol=1e-3, rtol=0)
    assert ((hidden < 0.01) | (hidden > 0.99)).float().mean() < 0.05
    assert tokens.std(dim=0).norm() > 0.05 * tokens.norm(dim=1).mean()  # sub-graphs map to different tokens


def test_scores_do_not_depend_on_left_padding(tokenizer):
    model = tiny_graph_llm(tokenizer).eval()
    encoded = samples(tokenizer)
    together = model.scores(collate(encoded))
    alone = torch.cat([model.scores(collate([s])) for s in encoded])
    torch.testing.assert_close(together, alone, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("title_head", [None, TitleHead(scale=5.0)], ids=["letter", "title"])
@pytest.mark.parametrize("llm_mode", ["frozen", "lora"])
def test_one_step_lowers_the_loss_on_a_repeated_batch(tokenizer, llm_mode, title_head):
    model = tiny_graph_llm(tokenizer, llm_mode=llm_mode, title_head=title_head).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    llm_trainable = [n for n, p in model.llm.named_parameters() if p.requires_grad]
    assert all("lora_" in n for n in llm_trainable) and (len(llm_trainable) > 0) == (llm_mode == "lora")
    optimizer = torch.optim.AdamW(trainable, lr=1e-2)
    answer_format = LETTER_ANSWER if title_head is None else TITLE_ANSWER
    batch = collate(samples(tokenizer, answer_format=answer_format, count=5 if title_head else 20))
    before = model.loss(batch)
    before.backward()
    optimizer.step()
    with torch.no_grad():
        after = model.loss(batch)
    assert after < before


def assert_reloaded_scores_identically(make_model: Callable[[], GraphLLM], batch: ModelBatch, folder: Path) -> None:
    """After one training step and save_trained_parts, a freshly built model scores differently until the saved
    parts are loaded, then exactly alike."""
    model = make_model().train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.loss(batch).backward()
    optimizer.step()
    model.eval()
    save_trained_parts(model, folder)
    restored = make_model().eval()
    with torch.no_grad():
        assert not torch.equal(restored.scores(batch), model.scores(batch))  # the trained parts differ before loading
        load_trained_parts(restored, folder)
        torch.testing.assert_close(restored.scores(batch), model.scores(batch), atol=0, rtol=0)


def test_saved_and_reloaded_model_scores_identically(tokenizer, tmp_path):
    make_model = partial(tiny_graph_llm, tokenizer, llm_mode="lora")
    assert_reloaded_scores_identically(make_model, collate(samples(tokenizer)), tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "adapter" / "adapter_config.json").is_file()


def separate_title_log_probs(model: GraphLLM, sample: EncodedSample) -> torch.Tensor:
    """Reference: one full pass of prompt + answer per candidate, log-softmax over the whole vocabulary."""
    embed = model.llm.get_input_embeddings()
    soft = model.graph_tokens(collate([sample]))[0]
    before, after = (torch.tensor(ids, dtype=torch.long) for ids in (sample.tokens.before, sample.tokens.after))
    prompt = torch.cat([embed(before), soft, embed(after)])
    means = []
    for option in sample.tokens.options:
        inputs = torch.cat([prompt, embed(torch.tensor(option))])[None]
        log_probs = torch.log_softmax(model.llm(inputs_embeds=inputs).logits[0].float(), dim=-1)
        predicted = log_probs[len(prompt) - 1 : -1].gather(1, torch.tensor(option)[:, None])
        means.append(predicted.mean())
    return torch.stack(means)


CHAT_TITLE = AnswerFormat("title", title_prompt="chat")


@pytest.mark.parametrize(
    "answer_format",
    [TITLE_ANSWER, AnswerFormat("title", "listed"), CHAT_TITLE, AnswerFormat("title", "listed", "chat")],
    ids=["completion", "completion-listed", "chat", "chat-listed"],
)
def test_title_scores_from_one_shared_prompt_pass_equal_separate_passes(tokenizer, answer_format):
    model = tiny_graph_llm(tokenizer, title_head=TitleHead()).eval()
    encoded = samples(tokenizer, answer_format=answer_format, count=6)
    assert len({len(option) for s in encoded for option in s.tokens.options}) > 1  # padding is exercised
    with torch.no_grad():
        shared = model.scores(collate(encoded))
        separate = torch.stack([separate_title_log_probs(model, s) for s in encoded])
    torch.testing.assert_close(shared, separate, atol=1e-5, rtol=1e-5)


def test_completion_title_answer_is_the_history_lists_next_item(tokenizer):
    """The completion prompt is plain text (no chat template) ending with the next item's dash; each answer is the
    title after a space and the newline that ends the item, so prompt + answer reads as one longer list."""
    tokens = samples(tokenizer, graphs_per_sample=(0,), answer_format=TITLE_ANSWER, count=3)[0].tokens
    text = tokenizer.decode(tokens.before + tokens.after)
    assert "<|im_start|>" not in text and "Option" not in text
    assert text.endswith(
        "A movie fan's watching history, in order:\n- Film 00 (1990)\n- Film 01 (1991)\n- Film 02 (1992)\n-"
    )
    assert [tokenizer.decode(option) for option in tokens.options] == [
        " Option 0-0\n",
        " Option 0-1 and more\n",
        " Option 0-2 and more and more\n",
    ]
    for option in tokens.options:  # the same ids as tokenizing the answered prompt in one piece
        answered = tokenizer(text + tokenizer.decode(option), add_special_tokens=False)["input_ids"]
        assert answered == [*tokens.before, *tokens.after, *option]
    listed = samples(tokenizer, graphs_per_sample=(0,), answer_format=AnswerFormat("title", "listed"), count=3)
    listed_text = tokenizer.decode(listed[0].tokens.before)
    assert listed_text.startswith("Candidates:\n- Option 0-0\n- Option 0-1 and more\n")


def test_completion_llamarec_prompt_puts_relations_before_the_history_list_it_continues():
    prompt = llamarec_prompt(["Heat (1995)", "Casino (1995)"], ["X", "Y"], True, TITLE_ANSWER)
    before, _, after = prompt.partition(GRAPH_SLOT)
    assert before == "Relations:\n"
    assert after == "A user's history, in chronological order:\n- Heat (1995)\n- Casino (1995)"


def test_chat_title_answer_tokens_are_the_title_then_the_end_of_turn(tokenizer):
    tokens = samples(tokenizer, graphs_per_sample=(0,), answer_format=CHAT_TITLE, count=3)[0].tokens
    assert [tokenizer.decode(option) for option in tokens.options] == [
        "Option 0-0<|im_end|>",
        "Option 0-1 and more<|im_end|>",
        "Option 0-2 and more and more<|im_end|>",
    ]
    text = tokenizer.decode(tokens.before + tokens.after)
    assert text.endswith("- Film 02 (1992)<|im_end|>\n<|im_start|>assistant\n") and "Option" not in text
    listed = samples(tokenizer, graphs_per_sample=(0,), answer_format=AnswerFormat("title", "listed", "chat"), count=3)
    assert "Options:\n- Option 0-0\n- Option 0-1 and more\n" in tokenizer.decode(listed[0].tokens.before)


def test_title_loss_is_the_listwise_cross_entropy_plus_the_weighted_target_language_model_loss(tokenizer):
    model = tiny_graph_llm(tokenizer, title_head=TitleHead(scale=3.0, lm_weight=0.5)).eval()
    batch = collate(samples(tokenizer, answer_format=TITLE_ANSWER, count=5))
    with torch.no_grad():
        scores = model.scores(batch)
        expected = torch.nn.functional.cross_entropy(3.0 * scores, batch.labels, reduction="none")
        expected = expected - 0.5 * scores[torch.arange(batch.size), batch.labels]
        torch.testing.assert_close(model.loss(batch), expected.mean())


@pytest.mark.parametrize("title_head", [None, TitleHead()], ids=["letter", "title"])
def test_bf16_bodies_do_not_tie_distinct_candidates(tokenizer, title_head):
    """Trained letter logits sit close together far from 0 (28-32), where bf16 steps are 0.125-0.25: scores read
    from bf16 logits tie distinct candidates (2-4 distinct scores of 20 here); fp32 scores keep them apart."""
    model = tiny_graph_llm(tokenizer, title_head=title_head).eval()
    answer_format = LETTER_ANSWER if title_head is None else TITLE_ANSWER
    batch = collate(samples(tokenizer, answer_format=answer_format))
    with torch.no_grad():
        head = model.llm.get_output_embeddings().weight
        state = model.llm.get_decoder()(input_ids=batch.before[0][None]).last_hidden_state[0, -1]
        head.copy_(state * (30.0 / state.norm() ** 2) + 0.05 * head)  # every logit near 30 for the first prompt
        logits = model.last_logits(batch)
    assert logits.std(dim=1).max() < 0.1 * logits.abs().mean()  # clustered, as trained letter logits are
    _, scores = next(scored_batches(model, [batch], bf16=True))
    for row in scores:
        assert len(set(row.tolist())) == len(row)
