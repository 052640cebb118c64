import { Hono } from "hono";
import { appUserAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { parseWith } from "../../http/validate";
import { postImage } from "../../media/upload";
import { imageUploadLimit, readImageForm } from "../../http/image-form";
import { jsonText } from "../../http/json-text";
import { jsonWithRaw } from "../../lib/raw-json";
import { conversationJson } from "../../presenters/conversation";
import { postedSchema } from "../conversation/routes";
import { imageFormFields } from "./schemas";

export const imagesRoutes = new Hono<AppEnv>();

const IMAGES_PATHS = ["/appusers/:appUserId/conversation/images", "/appusers/:appUserId/images"];

for (const path of IMAGES_PATHS) {
  imagesRoutes.post(
    path,
    describe({
      ...(path !== IMAGES_PATHS[0] && { aliasOf: "/v1/appusers/{appUserId}/conversation/images" }),
      summary: "Upload an image",
      description:
        "Stores a JPEG, PNG, GIF or WebP image (recognised by its bytes) and posts it as a message; the other form " +
        "fields are those of a posted message, with `metadata` as JSON text.",
      tags: ["Conversations"],
      form: { fields: imageFormFields, files: ["source"] },
      example: { role: "appUser" },
      responses: { 201: { description: "The image message, and the conversation's newest page.", schema: postedSchema } },
    }),
    ...appUserAccess,
    imageUploadLimit,
    async (c) => {
      const form = await readImageForm(c.req.raw);
      const fields = Object.fromEntries([...form.entries()].filter(([name, value]) => name !== "source" && typeof value === "string"));
      const user = c.get("appUser");
      const { message, page } = await postImage(
        c.env,
        c.get("credential"),
        user,
        form.get("source"),
        () => parseWith(imageFormFields, fields, "form"),
        new URL(c.req.url).origin,
      );
      return jsonText(c, jsonWithRaw({ message }, { conversation: conversationJson(user, page) }), 201);
    },
  );
}
