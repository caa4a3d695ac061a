// Asset tree (station → area → bay → device → component → inspection point), a keyboard-accessible
// ARIA tree: arrows move, Right/Left open/close, Enter/Space open a branch or a point's page.
import { h, heading } from "../ui.js";

export async function render(root, params, ctx) {
  const { t } = ctx;
  const tree = await ctx.api("/assets");
  const ul = h("ul", { role: "tree", class: "tree", "aria-labelledby": "assets-title" });
  const openLevels = 4; // stations, areas and bays open at first (their devices shown)
  for (const node of tree) ul.append(assetItem(node, 1, openLevels, t));
  const items = () => [...ul.querySelectorAll('[role="treeitem"]')].filter((el) => isVisible(el, ul));
  const first = ul.querySelector('[role="treeitem"]');
  if (first) first.tabIndex = 0;

  const focus = (el) => {
    if (!el) return;
    for (const it of ul.querySelectorAll('[role="treeitem"][tabindex="0"]')) it.tabIndex = -1;
    el.tabIndex = 0;
    el.focus();
  };
  const toggle = (el, open) => {
    if (!el.hasAttribute("aria-expanded")) return false;
    const now = el.getAttribute("aria-expanded") === "true";
    const next = open === undefined ? !now : open;
    el.setAttribute("aria-expanded", String(next));
    return now !== next;
  };
  const activate = (el) => {
    if (el.dataset.href) ctx.navigate(el.dataset.href);
    else toggle(el);
  };

  ul.addEventListener("click", (e) => {
    const el = e.target.closest('[role="treeitem"]');
    if (!el) return;
    e.stopPropagation();
    focus(el);
    activate(el);
  });
  ul.addEventListener("keydown", (e) => {
    const el = e.target.closest('[role="treeitem"]');
    if (!el) return;
    const list = items();
    const i = list.indexOf(el);
    let handled = true;
    switch (e.key) {
      case "ArrowDown": focus(list[i + 1]); break;
      case "ArrowUp": focus(list[i - 1]); break;
      case "Home": focus(list[0]); break;
      case "End": focus(list[list.length - 1]); break;
      case "ArrowRight":
        if (el.getAttribute("aria-expanded") === "false") toggle(el, true);
        else if (el.getAttribute("aria-expanded") === "true") focus(el.querySelector('[role="treeitem"]'));
        break;
      case "ArrowLeft":
        if (el.getAttribute("aria-expanded") === "true") toggle(el, false);
        else focus(el.parentElement.closest('[role="treeitem"]'));
        break;
      case "Enter":
      case " ":
        activate(el);
        break;
      default: handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  });

  const expandAll = h("button", { type: "button", class: "btn-plain", onclick: () => ul.querySelectorAll("[aria-expanded]").forEach((x) => x.setAttribute("aria-expanded", "true")) }, t("assets.expand_all"));
  const collapseAll = h("button", { type: "button", class: "btn-plain", onclick: () => ul.querySelectorAll("[aria-expanded]").forEach((x) => x.setAttribute("aria-expanded", "false")) }, t("assets.collapse_all"));
  const title = heading(t("assets.title"), t("assets.hint"));
  title.querySelector("h1").id = "assets-title";
  root.append(
    title,
    h("div", { class: "toolbar" }, expandAll, collapseAll),
    tree.length ? ul : h("p", { class: "empty" }, t("assets.empty")),
  );
}

function isVisible(el, rootUl) {
  for (let p = el.parentElement; p && p !== rootUl; p = p.parentElement) {
    if (p.getAttribute && p.getAttribute("role") === "treeitem" && p.getAttribute("aria-expanded") === "false") return false;
  }
  return true;
}

function assetItem(node, level, openLevels, t) {
  const kids = [...(node.children || []), ...(node.points || []).map((p) => ({ ...p, kind: "point" }))];
  const attrs = { role: "treeitem", "aria-level": level, tabindex: -1, class: `tree-item kind-${node.kind}` };
  if (node.kind === "point") {
    attrs.dataset = { href: `#/points/${node.id}` };
  } else if (kids.length) {
    attrs["aria-expanded"] = String(level < openLevels);
  }
  const label = h("span", { class: "tree-label" },
    h("span", { class: "kind" }, t(`kind.${node.kind}`)),
    " ",
    h("span", { class: "name" }, node.name),
    " ",
    h("span", { class: "code muted" }, node.code),
    node.kind === "point" && node.phase ? h("span", { class: "muted" }, ` · ${t("field.phase")} ${node.phase}`) : null);
  const li = h("li", attrs, label);
  if (node.kind !== "point" && kids.length) {
    li.append(h("ul", { role: "group" }, kids.map((k) => assetItem(k, level + 1, openLevels, t))));
  }
  return li;
}
