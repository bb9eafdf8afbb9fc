"""{{ field|applicant_field }}: an applicant's field drawn in Python, as crispy-forms draws it.

The booking form is the page a crowd sends back with a typo, and comes back to from "check
your answers": through crispy's templates and Django's widget templates its fields took
4.5 of its 9-10 ms in-process (15 times `/healthz`). Here the same markup, attribute for
attribute, costs a tenth of that: tests/public/test_applicant_fields.py draws every field
of these forms both ways, in each state they can be in, and holds the two equal. Django
still decides every attribute (required, aria-invalid, aria-describedby, the id, the
value); only the templates are not asked. Only the widgets the applicant's forms use are
drawn here; any other form of the site stays with crispy.
"""

import html

from django import template
from django.forms import RadioSelect
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Django's templates of the applicant's inputs (text, telephone, e-mail, date), each of them
# input.html alone.
INPUT_TEMPLATES = {
    f"django/forms/widgets/{name}.html" for name in ("input", "text", "email", "date")
}


class InputRenderer(DjangoTemplates):
    """Django's form renderer, with an <input> written as input.html writes it."""

    def render(self, template_name, context, request=None):
        if template_name in INPUT_TEMPLATES:
            return _input(context["widget"])
        return super().render(template_name, context, request)


def _e(value) -> str:
    # Django's conditional_escape, without its lazy-string wrapper: this module calls it
    # some 250 times a page, and that wrapper was a third of the page's fields.
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _attrs(attrs: dict) -> str:
    # django/forms/widgets/attrs.html: False leaves an attribute out, True writes its name.
    return "".join(
        f" {name}" if value is True else f' {name}="{_e(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> SafeString:
    # django/forms/widgets/input.html
    value = widget["value"]
    shown = "" if value is None else f' value="{_e(value)}"'
    html_ = f'<input type="{_e(widget["type"])}" name="{_e(widget["name"])}"{shown}'
    return mark_safe(f"{html_}{_attrs(widget['attrs'])}>")  # noqa: S308 - escaped by _e


@register.filter
def applicant_field(field) -> SafeString:
    """Return a bound field as crispy's bootstrap5 field.html draws it (its defaults); for a
    form whose renderer is InputRenderer."""
    classes = field.css_classes()
    errors = field.errors
    drawn = (
        _radio_group(field, errors)
        if isinstance(field.field.widget, RadioSelect)
        else _text_field(field, errors)
    )
    wrapper = (
        f'<div id="div_{_e(field.auto_id)}" class="mb-3{f" {_e(classes)}" if classes else ""}">'
    )
    return mark_safe(f"{wrapper}{drawn}</div>")  # noqa: S308 - escaped by _e


def _label(field, tag, classes) -> str:
    # The label, or a radio group's legend; "*" after a required field's.
    required = field.field.required
    mark = '<span class="asteriskField">*</span>' if required else ""
    named = f' for="{_e(field.id_for_label)}"' if field.id_for_label else ""
    classes += " requiredField" if required else ""
    if tag == "legend":
        classes += " fs-6"
    return f'<{tag}{named} class="{classes}">{_e(field.label)}{mark}</{tag}>'


def _text_field(field, errors) -> str:
    widget = field.field.widget
    # crispy: the widget's class, its name in lowercase, then Bootstrap's.
    name = type(widget).__name__.lower()
    classes = widget.attrs.get("class", "")
    classes = (f"{classes} {name}" if name not in classes else classes) if classes else name
    for added in ("form-control", "is-invalid") if errors else ("form-control",):
        if added not in classes.split():
            classes += f" {added}"
    shown = field.as_widget(attrs={"class": classes})
    return f"{_label(field, 'label', 'form-label')}{shown}{_errors(field, errors)}{_help(field)}"


def _radio_group(field, errors) -> str:
    widget = field.field.widget
    # crispy's optgroups filter: the options with the attributes Django gives each.
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    groups = widget.optgroups(field.html_name, widget.format_value(field.value()), attrs)
    options = [option for _group, group_options, _index in groups for option in group_options]
    invalid = " is-invalid" if errors else ""
    name = _e(field.html_name)
    drawn = []
    for number, option in enumerate(options, start=1):
        last = _errors(field, errors) if number == len(options) else ""
        drawn.append(
            f'<div class="form-check"><input type="{_e(option["type"])}" '
            f'class="form-check-input{invalid}" name="{name}" value="{_e(option["value"])}"'
            f'{_attrs(option["attrs"])}><label for="{_e(option["attrs"].get("id", ""))}" '
            f'class="form-check-label">{_e(option["label"])}</label>{last}</div>'
        )
    described = field.aria_describedby
    opened = f'<fieldset aria-describedby="{_e(described)}">' if described else "<fieldset>"
    legend = _label(field, "legend", "form-label")
    return f"{opened}{legend}<div >{''.join(drawn)}</div>{_help(field)}</fieldset>"


def _errors(field, errors) -> str:
    # bootstrap5/layout/field_errors_block.html
    if not errors:
        return ""
    auto_id = _e(field.auto_id)
    shown = "".join(
        f'<p id="error_{number}_{auto_id}"><strong>{_e(error)}</strong></p>'
        for number, error in enumerate(errors, start=1)
    )
    return f'<div id="{_e(errors.field_id)}_error" class="invalid-feedback">{shown}</div>'


def _help(field) -> str:
    # bootstrap5/layout/help_text.html; the help text is the form's own, not escaped.
    if not field.help_text:
        return ""
    named = f' id="{_e(field.auto_id)}_helptext"' if field.auto_id else ""
    return f'<div{named} class="form-text">{field.help_text}</div>'
