// rheumetrics visit form: homunculus (mouse and keyboard) and the live score panel.
// No external resources; served from /static under a strict Content-Security-Policy.
"use strict";
(function () {
  const NEXT = { n: "t", t: "s", s: "b", b: "n", x: "n", p: "n" };
  const KEYS = { t: "t", s: "s", b: "b", n: "n", x: "x", p: "p" };
  const TEXT = { n: "neither tender nor swollen", t: "tender", s: "swollen", b: "tender and swollen", x: "not assessed", p: "prosthesis or absent" };

  function init() {
    const form = document.getElementById("visit-form");
    const svg = document.getElementById("homunculus");
    if (!form || !svg) return;
    const sets = JSON.parse(svg.dataset.sets);
    const joints = Array.from(svg.querySelectorAll("g.joint"));
    const input = (g) => document.getElementById("j_" + g.dataset.joint);

    function show(g) {
      const state = input(g).value;
      g.setAttribute("class", "joint state-" + state + (g.classList.contains("hidden") ? " hidden" : ""));
      g.setAttribute("aria-label", g.querySelector("title").textContent + ": " + TEXT[state]);
      g.setAttribute("aria-pressed", state === "t" || state === "s" || state === "b" ? "true" : "false");
    }
    function set(g, state) {
      input(g).value = state;
      g.dataset.touched = "1";
      show(g);
      scheduleScore();
    }
    function visible() { return joints.filter((g) => !g.classList.contains("hidden")); }
    function applySet(name, initial) {
      const members = new Set(sets[name] || []);
      joints.forEach((g) => {
        const inSet = members.has(g.dataset.joint);
        g.classList.toggle("hidden", !inSet);
        g.setAttribute("tabindex", inSet ? "0" : "-1");
        if (!initial) {
          if (!inSet && input(g).value !== "p") input(g).value = "x";
          if (inSet && input(g).value === "x" && !g.dataset.touched) input(g).value = "n";
        }
        show(g);
      });
      if (!initial) scheduleScore();
    }
    joints.forEach((g) => {
      g.addEventListener("click", () => set(g, NEXT[input(g).value] || "n"));
      g.addEventListener("keydown", (ev) => {
        const k = ev.key.toLowerCase();
        if (k === " " || k === "enter") { ev.preventDefault(); set(g, NEXT[input(g).value] || "n"); }
        else if (KEYS[k]) { ev.preventDefault(); set(g, KEYS[k]); }
        else if (["arrowright", "arrowdown", "arrowleft", "arrowup"].includes(k)) {
          ev.preventDefault();
          const list = visible();
          const i = list.indexOf(g) + (k === "arrowright" || k === "arrowdown" ? 1 : -1);
          list[(i + list.length) % list.length].focus();
        }
      });
    });
    form.querySelectorAll("input[name=joint_set]").forEach((r) =>
      r.addEventListener("change", () => applySet(r.value, false)));
    const checked = form.querySelector("input[name=joint_set]:checked");
    applySet(checked ? checked.value : "28", true);

    let timer = null;
    let seq = 0;
    function scheduleScore() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(updateScore, 120);
    }
    async function updateScore() {
      const mine = ++seq;
      const data = new URLSearchParams(new FormData(form));
      const resp = await fetch(form.dataset.scoreUrl, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": form.querySelector("input[name=csrf_token]").value },
      });
      if (resp.ok && mine === seq) {
        document.getElementById("score-panel").innerHTML = await resp.text();
        form.dataset.scored = String(mine);
      }
    }
    form.addEventListener("input", (ev) => { if (ev.target.name !== "joint_set") scheduleScore(); });
    form.addEventListener("change", (ev) => { if (ev.target.name !== "joint_set") scheduleScore(); });
  }
  document.addEventListener("DOMContentLoaded", init);
})();
