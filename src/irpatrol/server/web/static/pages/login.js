// Login: user name and password → POST /api/v1/auth/login; the shell keeps the token.
import { h } from "../ui.js";

export async function render(root, params, ctx) {
  const { t } = ctx;
  const msg = h("p", { class: "form-error", id: "login-error", role: "alert", "aria-live": "assertive" });
  const flash = params.flash ? h("p", { class: "notice", role: "status" }, t(params.flash)) : null;
  const form = h(
    "form",
    { class: "login-form", "aria-describedby": "login-error" },
    h("div", { class: "field" }, h("label", { for: "login-user" }, t("login.username")),
      h("input", { id: "login-user", name: "username", autocomplete: "username", required: true })),
    h("div", { class: "field" }, h("label", { for: "login-password" }, t("login.password")),
      h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit", id: "login-submit" }, t("login.submit")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    msg.textContent = "";
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await ctx.login(form.elements.username.value.trim(), form.elements.password.value);
      const next = params.next && params.next.startsWith("#/") ? params.next : "#/overview";
      ctx.navigate(next);
    } catch (err) {
      msg.textContent = err.status === 401 ? t("login.failed") : err.status === 0 ? t("error.network") : err.message;
      button.disabled = false;
      form.elements.password.select();
    }
  });
  root.append(
    h("section", { class: "login-box", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title" }, t("login.title")),
      flash,
      form,
      msg),
  );
}
