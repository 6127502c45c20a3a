"""Document numbers in their normal form (``people.idnumbers.normalize_document``): a number typed
with full-width digits, or with spaces, is stored, indexed and masked again as its ASCII form, so
that both forms find the same person. A row whose normal form another person already holds keeps
its old form and is reported here, for the two records to be merged (``person_merge``)."""

from django.db import migrations

CHUNK = 2000


def documents_normalise(apps, schema_editor):
    from fangkong.people.crypto import blind_index, decrypt, encrypt
    from fangkong.people.idnumbers import normalize_document
    from fangkong.people.masking import mask_id_number

    Person = apps.get_model("people", "Person")
    taken: set[tuple[str, str]] = set()  # normal forms given out here
    changed, collisions = [], []
    rows = Person.objects.order_by("pk").values_list("pk", "id_type", "id_number_cipher", "id_number_index")
    for pk, id_type, cipher, index in rows.iterator(chunk_size=CHUNK):
        number = decrypt(cipher)
        plain = normalize_document(number)
        new_index = blind_index(plain, purpose=f"id:{id_type}")
        if plain == number and new_index == index:
            continue
        held = Person.objects.filter(id_type=id_type, id_number_index=new_index).exclude(pk=pk)
        if (id_type, new_index) in taken or held.exists():
            other = (
                Person.objects.filter(id_type=id_type, id_number_index=new_index)
                .values_list("pk", flat=True)
                .first()
            )
            collisions.append((pk, other))
            continue
        taken.add((id_type, new_index))
        changed.append(
            Person(
                pk=pk,
                id_number_cipher=encrypt(plain),
                id_number_index=new_index,
                id_number_masked=mask_id_number(plain),
            )
        )
    Person.objects.bulk_update(
        changed, ["id_number_cipher", "id_number_index", "id_number_masked"], batch_size=CHUNK
    )
    if changed or collisions:
        print(
            f"\n  documents normalised: {len(changed)} re-indexed; {len(collisions)} now the same number as another person"
        )
    for pk, other in collisions:
        print(
            f"  person {pk} holds the same document as person {other} in another form: merge the two records"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_alter_personimport_created_count"),
    ]

    operations = [migrations.RunPython(documents_normalise, migrations.RunPython.noop)]
